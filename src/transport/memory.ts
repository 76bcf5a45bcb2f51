/**
 * An in-memory transport: the APDUs go straight to a device-side handler (a
 * simulator). Used by unit tests, the demo and the bench. It can pull the
 * token off the reader before a given command, the way a hand does.
 */
import { CardRemovedError } from './errors.js';
import type { ApduTransport } from './types.js';

export interface ApduResponder {
  process(apdu: Uint8Array): Uint8Array;
  /** The token's answer to reset. */
  readonly atr: Uint8Array;
}

export interface MemoryTransportOptions {
  readerName?: string;
  /** Remove the token when the nth command (1-based) is sent: it never reaches the device. */
  removeBeforeCommand?: number;
}

export class MemoryTransport implements ApduTransport {
  readonly kind = 'memory';
  readonly readerName: string;
  private present = true;
  private sent = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly device: ApduResponder,
    private readonly opts: MemoryTransportOptions = {},
  ) {
    this.readerName = opts.readerName ?? 'Memory Reader 00 00';
  }

  get atr(): Uint8Array {
    return this.device.atr;
  }

  /** Number of commands sent so far. */
  get commandCount(): number {
    return this.sent;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (!this.present) throw new CardRemovedError(this.readerName);
    this.sent++;
    if (this.opts.removeBeforeCommand === this.sent) {
      this.remove();
      throw new CardRemovedError(this.readerName);
    }
    return this.device.process(Uint8Array.from(apdu));
  }

  isPresent(): boolean {
    return this.present;
  }

  /** Takes the token off the reader. */
  remove(): void {
    if (!this.present) return;
    this.present = false;
    for (const l of [...this.listeners]) l();
  }

  onRemoved(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

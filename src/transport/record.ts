/**
 * A transport that records every frame of the transport it wraps. The
 * redaction predicate (given by the caller, who knows which commands carry a
 * seed) keeps seed-bearing commands out of the cassette: only their header
 * and length are stored.
 */
import { TokensmithError } from '../core/errors.js';
import {
  CASSETTE_FORMAT,
  CASSETTE_VERSION,
  type Cassette,
  type CassetteFrame,
  type CassetteHeader,
} from './cassette.js';
import { CardRemovedError, TransmitTimeoutError } from './errors.js';
import type { ApduTransport, TransmitOptions } from './types.js';

export interface RecordingOptions {
  /** True for commands whose body must not be stored (a real seed). */
  redact?: (apdu: Uint8Array) => boolean;
  /** How many leading bytes of a redacted command are kept (default 5, an APDU header; a HID report keeps none). */
  redactedPrefix?: (apdu: Uint8Array) => number;
  clock?: () => number;
}

export class RecordingTransport implements ApduTransport {
  readonly frames: CassetteFrame[] = [];
  private readonly started: number;
  private readonly clock: () => number;

  constructor(
    readonly inner: ApduTransport,
    private readonly opts: RecordingOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.started = this.clock();
  }

  get kind(): string {
    return this.inner.kind;
  }
  get readerName(): string {
    return this.inner.readerName;
  }
  get atr(): Uint8Array {
    return this.inner.atr;
  }

  private push(f: Omit<CassetteFrame, 'seq' | 'ms'>): void {
    this.frames.push({ seq: this.frames.length + 1, ms: this.clock() - this.started, ...f });
  }

  async transmit(apdu: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array> {
    if (this.opts.redact?.(apdu))
      this.push({
        dir: 'command',
        bytes: Uint8Array.from(apdu.subarray(0, this.opts.redactedPrefix?.(apdu) ?? 5)),
        redacted: true,
        length: apdu.length,
      });
    else this.push({ dir: 'command', bytes: Uint8Array.from(apdu) });
    try {
      const resp = await this.inner.transmit(apdu, opts);
      this.push({ dir: 'response', bytes: Uint8Array.from(resp) });
      return resp;
    } catch (e) {
      const event =
        e instanceof CardRemovedError ? 'card-removed' : e instanceof TransmitTimeoutError ? 'timeout' : 'error';
      this.push({
        dir: 'event',
        bytes: new Uint8Array(),
        event,
        message: e instanceof TokensmithError ? e.code : (e as Error).message,
      });
      throw e;
    }
  }

  isPresent(): boolean {
    return this.inner.isPresent();
  }
  onRemoved(listener: () => void): () => void {
    return this.inner.onRemoved(listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  cassette(header: Omit<CassetteHeader, 'format' | 'version' | 'transport' | 'reader' | 'atr'>): Cassette {
    return {
      header: {
        format: CASSETTE_FORMAT,
        version: CASSETTE_VERSION,
        transport: this.inner.kind,
        reader: this.inner.readerName,
        atr: Uint8Array.from(this.inner.atr),
        ...header,
      },
      frames: this.frames.map((f) => ({ ...f })),
    };
  }
}

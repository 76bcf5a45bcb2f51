/**
 * Plays a cassette back to whatever drives it (the real driver). Each command
 * must equal the recorded one, byte for byte (redacted ones by shape: header
 * and length); the first difference fails with both frames, decoded.
 */
import { hexSpaced, type Cassette, type CassetteFrame } from './cassette.js';
import { CardRemovedError, CassetteMismatchError, TransmitTimeoutError } from './errors.js';
import type { ApduTransport, FrameDescriber } from './types.js';

export type { FrameDescriber } from './types.js';

export interface ReplayOptions {
  describe?: FrameDescriber;
  /** Names the cassette in messages. */
  name?: string;
}

export class ReplayTransport implements ApduTransport {
  readonly kind = 'replay';
  private pos = 0;
  private present = true;
  private readonly listeners = new Set<() => void>();
  private readonly name: string;

  constructor(
    readonly cassette: Cassette,
    private readonly opts: ReplayOptions = {},
  ) {
    this.name = opts.name ?? 'cassette';
  }

  get readerName(): string {
    return this.cassette.header.reader;
  }
  get atr(): Uint8Array {
    return this.cassette.header.atr;
  }

  private describe(bytes: Uint8Array, dir: 'command' | 'response'): string {
    if (!this.opts.describe) return '';
    try {
      return ` (${this.opts.describe(bytes, dir)})`;
    } catch {
      return '';
    }
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const frame = this.cassette.frames[this.pos];
    if (!this.present) throw new CardRemovedError(this.readerName);
    if (!frame) {
      throw new CassetteMismatchError(
        `replay of ${this.name}: the recording has ended, but the driver sent another command:\n  actual   ${hexSpaced(apdu)}${this.describe(apdu, 'command')}`,
        this.name,
      );
    }
    if (frame.dir !== 'command') {
      throw new CassetteMismatchError(
        `replay of ${this.name}: frame #${frame.seq} is a ${frame.dir}, but the driver sent a command:\n  actual   ${hexSpaced(apdu)}${this.describe(apdu, 'command')}`,
        `${this.name}#${frame.seq}`,
      );
    }
    this.check(frame, apdu);
    this.pos++;
    const answer = this.cassette.frames[this.pos];
    if (!answer)
      throw new CassetteMismatchError(
        `replay of ${this.name}: the recording ends after command #${frame.seq} without an answer`,
        this.name,
      );
    this.pos++;
    if (answer.dir === 'response') return Uint8Array.from(answer.bytes);
    if (answer.dir === 'event' && answer.event === 'card-removed') {
      this.present = false;
      for (const l of [...this.listeners]) l();
      throw new CardRemovedError(this.readerName);
    }
    if (answer.dir === 'event' && answer.event === 'timeout') throw new TransmitTimeoutError(this.readerName, 0);
    throw new CassetteMismatchError(
      `replay of ${this.name}: frame #${answer.seq} records an error (${answer.message ?? 'unknown'}) the replay cannot reproduce`,
      `${this.name}#${answer.seq}`,
    );
  }

  private check(frame: CassetteFrame, apdu: Uint8Array): void {
    let differsAt = -1;
    if (frame.redacted) {
      if (apdu.length !== frame.length) differsAt = Math.min(apdu.length, 5);
      else
        for (let i = 0; i < frame.bytes.length; i++)
          if (frame.bytes[i] !== apdu[i]) {
            differsAt = i;
            break;
          }
    } else {
      const n = Math.max(frame.bytes.length, apdu.length);
      for (let i = 0; i < n; i++)
        if (frame.bytes[i] !== apdu[i]) {
          differsAt = i;
          break;
        }
    }
    if (differsAt < 0) return;
    const expected = frame.redacted
      ? `${hexSpaced(frame.bytes)} + ${(frame.length ?? 0) - frame.bytes.length} redacted bytes (${frame.length} in all)`
      : `${hexSpaced(frame.bytes)}${this.describe(frame.bytes, 'command')}`;
    const actual = frame.redacted
      ? `${hexSpaced(apdu.subarray(0, 5))} ... (${apdu.length} bytes in all)`
      : `${hexSpaced(apdu)}${this.describe(apdu, 'command')}`;
    throw new CassetteMismatchError(
      `replay of ${this.name}: command #${frame.seq} differs from the recording at byte ${differsAt}` +
        `${frame.redacted ? ' (shape of a redacted frame)' : ''}:\n  expected ${expected}\n  actual   ${actual}`,
      `${this.name}#${frame.seq}`,
    );
  }

  /** Throws when frames are left: the driver stopped earlier than the recording. */
  assertFinished(): void {
    const left = this.cassette.frames.slice(this.pos);
    if (left.length === 0) return;
    const f = left[0]!;
    throw new CassetteMismatchError(
      `replay of ${this.name}: the driver stopped, but the recording goes on with ${left.length} frame(s), from #${f.seq}: ${f.dir} ${hexSpaced(f.bytes)}${f.dir === 'event' ? '' : this.describe(f.bytes, f.dir)}`,
      `${this.name}#${f.seq}`,
    );
  }

  isPresent(): boolean {
    return this.present;
  }
  onRemoved(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async close(): Promise<void> {
    this.listeners.clear();
  }
}

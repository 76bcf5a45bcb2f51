/**
 * Runs the Protectimus commands over any transport: identify (info and the
 * card's UID), read the code on the display, set the clock. Every answer's
 * head, length, command and checksum are checked. Seed writing is not public:
 * `seedWriteNotPublic` is the one error for it.
 */
import { toHex } from '../../src/core/bytes.js';
import { DeviceError, PolicyError } from '../../src/core/errors.js';
import { exchange, SW_OK } from '../../src/transport/iso7816.js';
import type { ApduTransport } from '../../src/transport/types.js';
import {
  CMD,
  FrameError,
  buildInfo,
  buildReadCode,
  buildSetTime,
  parseAnswer,
  parseCodePayload,
  parseInfoPayload,
  type ProtectimusInfo,
  type ProtectimusModel,
} from './protocol.js';

export interface ProtectimusDriverOptions {
  now?: () => number;
  timeoutMs?: number;
  onStep?: (step: string) => void;
}

export type ProtectimusStep = 'uid' | 'info' | 'readCode' | 'setTime';
const STEP_WORDS: Record<ProtectimusStep, string> = {
  uid: "reading the card's UID",
  info: 'reading the token info',
  readCode: 'reading the code on the display',
  setTime: "setting the token's clock",
};

/** The answer was not a valid Protectimus frame (exit 3). */
export class ProtectimusFrameError extends DeviceError {
  constructor(step: ProtectimusStep, why: string, frame: Uint8Array) {
    super(
      `${STEP_WORDS[step]}: ${why} (answer ${toHex(frame) || 'empty'}); is this a Protectimus Slim NFC or Flex? Hold it still on the reader and try again`,
      { code: 'bad-frame' },
    );
  }
}

/**
 * Seed writing on Protectimus tokens is not public (exit 5, refused): the
 * command, its encryption and its authentication are known only to the
 * vendor's Android app.
 */
export function seedWriteNotPublic(model: ProtectimusModel | string, serial?: string): PolicyError {
  return new PolicyError(
    `refused: writing a seed to a ${model === 'protectimus-flex' ? 'Protectimus Flex' : 'Protectimus Slim NFC'}${serial ? ` (${serial})` : ''} is not possible with tokensmith: ` +
      "the seed-write command, its encryption and its authentication are not public (only the vendor's Protectimus NFC Android app can program these tokens). " +
      "Program it with the vendor's app, then register it here with `tokensmith tokens add <serial> --secret <base32> --manufacturer Protectimus --model " +
      `${model}\` (or \`tokensmith import\` of the vendor's seed file); tokensmith can then read its code (\`device verify\`) and set its clock (\`device sync\`). Nothing was written`,
    { code: 'seed-write-not-public', where: serial },
  );
}

/** PC/SC's GET DATA for the UID (answered by the reader, not the token). */
const READER_GET_UID = Uint8Array.from([0xff, 0xca, 0x00, 0x00, 0x00]);

export class ProtectimusDriver {
  private sent = 0;
  private readonly now: () => number;

  constructor(
    readonly transport: ApduTransport,
    private readonly opts: ProtectimusDriverOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  get commandCount(): number {
    return this.sent;
  }

  private async exchange(step: ProtectimusStep, frame: Uint8Array, cmd: number): Promise<Uint8Array> {
    this.opts.onStep?.(STEP_WORDS[step]);
    this.sent++;
    const resp = await this.transport.transmit(frame, { timeoutMs: this.opts.timeoutMs });
    try {
      return parseAnswer(resp, cmd).payload;
    } catch (e) {
      if (e instanceof FrameError) throw new ProtectimusFrameError(step, e.message, resp);
      throw e;
    }
  }

  /**
   * The card's UID through the reader's `FF CA 00 00 00` pseudo-APDU, the one
   * real APDU here, so it goes through the ISO 7816 layer (61xx, 6Cxx followed);
   * null when the reader does not answer it.
   */
  async readUid(): Promise<string | null> {
    this.opts.onStep?.(STEP_WORDS.uid);
    const r = await exchange(this.transport, READER_GET_UID, {
      timeoutMs: this.opts.timeoutMs,
      getResponseClass: 0x00,
    }).catch((e: unknown) => {
      if (e instanceof DeviceError && e.code === 'bad-answer') return null;
      throw e;
    });
    this.sent += r?.transmits ?? 1;
    return r && r.sw === SW_OK && r.data.length > 0 ? toHex(r.data) : null;
  }

  async readInfo(): Promise<ProtectimusInfo> {
    const p = await this.exchange('info', buildInfo(), CMD.info);
    try {
      return parseInfoPayload(p);
    } catch (e) {
      throw new ProtectimusFrameError('info', (e as Error).message, p);
    }
  }

  async readCode(): Promise<{ code: string; at: number }> {
    const p = await this.exchange('readCode', buildReadCode(), CMD.readCode);
    try {
      return { code: parseCodePayload(p), at: this.now() };
    } catch (e) {
      throw new ProtectimusFrameError('readCode', (e as Error).message, p);
    }
  }

  /** Sets the clock to the host's, in the token's own interval (read from info when not given). */
  async setTime(interval?: 30 | 60): Promise<{ timeWritten: number; interval: 30 | 60 }> {
    let step = interval;
    if (!step) {
      const info = await this.readInfo();
      if (!info.interval)
        throw new DeviceError(
          `the token reports an unknown interval flag ${info.intervalFlag.toString(16)}; cannot set its clock`,
          { code: 'unknown-interval' },
        );
      step = info.interval;
    }
    const time = Math.floor(this.now() / 1000);
    const p = await this.exchange('setTime', buildSetTime(time, step), CMD.setTime);
    if (p.length > 0 && p.some((b) => b !== 0)) {
      throw new DeviceError(`setting the clock: the token answered status ${toHex(p)} (not accepted)`, {
        code: 'status-word',
      });
    }
    return { timeWritten: time, interval: step };
  }
}

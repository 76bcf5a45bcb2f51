/**
 * The device side of a Protectimus Slim NFC / Flex: its own clock and seed, a
 * TOTP display it can be asked for, and a clock anyone can set (CVE-2021-32033).
 * Seed writing is not public, so the seed is given when the simulator starts.
 * It also answers the PC/SC "get UID" pseudo-APDU (FF CA 00 00 00) the way a
 * contactless reader does for the card on it.
 */
import { codeAtStep } from '../../src/core/otp.js';
import {
  CMD,
  FrameError,
  buildAnswer,
  encodeCodePayload,
  encodeInfoPayload,
  parseRequest,
  parseSetTimeData,
  type ProtectimusModel,
} from './protocol.js';

function simulatorAtr(historical: string): Uint8Array {
  const h = Buffer.from(historical, 'ascii');
  const body = [0x80 | h.length, 0x80, 0x01, ...h];
  return Uint8Array.from([0x3b, ...body, body.reduce((x, b) => x ^ b, 0)]);
}

/** 3B 8B 80 01 "PROTECTIMUS" TCK (simulator only: a real token shows the reader's generic contactless ATR). */
export const PROTECTIMUS_SIMULATOR_ATR = simulatorAtr('PROTECTIMUS');
/** 3B 8B 80 01 "PROTECTFLEX" TCK, the simulated Flex. */
export const PROTECTIMUS_FLEX_SIMULATOR_ATR = simulatorAtr('PROTECTFLEX');

export const DEFAULT_PROTECTIMUS_SERIALS: Record<ProtectimusModel, string> = {
  'protectimus-slim': '70100000001',
  'protectimus-flex': '70200000001',
};

/** A labelled test seed (RFC 6238 SHA-1), the default so `tokens add` can be given it. */
export const PROTECTIMUS_TEST_SEED = Uint8Array.from(Buffer.from('12345678901234567890', 'ascii'));

export interface ProtectimusSimulatorOptions {
  model?: ProtectimusModel;
  serial?: string;
  seed?: Uint8Array;
  interval?: 30 | 60;
  digits?: number;
  /** The token's clock minus the host's, in seconds. */
  clockOffset?: number;
  now?: () => number;
  hardwareScheme?: number;
  firmware?: [number, number];
  onChange?: (s: ProtectimusSimulatorState) => void;
}

export interface ProtectimusSimulatorState {
  serial: string;
  model: ProtectimusModel;
  uid: string;
  seedHex: string;
  algorithm: 'sha1';
  digits: number;
  interval: number;
  clock: number;
  clockOffset: number;
  code: string;
  commands: number;
  lastCommand: string | null;
  frameErrors: number;
}

export class ProtectimusSimulator {
  readonly atr: Uint8Array;
  readonly serial: string;
  readonly model: ProtectimusModel;
  readonly uid: Uint8Array;
  readonly interval: 30 | 60;
  readonly digits: number;
  private readonly seed: Uint8Array;
  private clockOffsetMs: number;
  private commands = 0;
  private lastCommand: string | null = null;
  private frameErrors = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ProtectimusSimulatorOptions = {}) {
    this.model = opts.model ?? 'protectimus-slim';
    this.serial = opts.serial ?? DEFAULT_PROTECTIMUS_SERIALS[this.model];
    this.atr = this.model === 'protectimus-flex' ? PROTECTIMUS_FLEX_SIMULATOR_ATR : PROTECTIMUS_SIMULATOR_ATR;
    this.seed = Uint8Array.from(opts.seed ?? PROTECTIMUS_TEST_SEED);
    this.interval = opts.interval ?? 30;
    this.digits = opts.digits ?? 6;
    this.clockOffsetMs = (opts.clockOffset ?? 0) * 1000;
    this.now = opts.now ?? Date.now;
    // A 7-byte NXP-style UID derived from the serial, so each simulated token has its own.
    const digits = this.serial.replace(/\D/g, '').padStart(12, '0').slice(-12);
    this.uid = Uint8Array.from([0x04, ...Buffer.from(digits, 'hex')]);
  }

  clock(): number {
    return Math.floor((this.now() + this.clockOffsetMs) / 1000);
  }

  /** Moves the token's clock (tests: a clock that ran away). */
  shiftClock(seconds: number): void {
    this.clockOffsetMs += seconds * 1000;
  }

  code(): string {
    return codeAtStep(
      this.seed,
      { type: 'totp', algorithm: 'sha1', digits: this.digits, period: this.interval, counter: 0 },
      Math.floor(this.clock() / this.interval),
    );
  }

  state(): ProtectimusSimulatorState {
    return {
      serial: this.serial,
      model: this.model,
      uid: Buffer.from(this.uid).toString('hex').toUpperCase(),
      seedHex: Buffer.from(this.seed).toString('hex'),
      algorithm: 'sha1',
      digits: this.digits,
      interval: this.interval,
      clock: this.clock(),
      clockOffset: Math.round(this.clockOffsetMs / 1000),
      code: this.code(),
      commands: this.commands,
      lastCommand: this.lastCommand,
      frameErrors: this.frameErrors,
    };
  }

  process(frame: Uint8Array): Uint8Array {
    this.commands++;
    const resp = this.dispatch(frame);
    this.opts.onChange?.(this.state());
    return resp;
  }

  private dispatch(frame: Uint8Array): Uint8Array {
    if (frame[0] === 0xff && frame[1] === 0xca) {
      this.lastCommand = 'getUid';
      return Uint8Array.from([...this.uid, 0x90, 0x00]);
    }
    let data: Uint8Array;
    try {
      data = parseRequest(frame);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      // A bad frame gets no answer a host could take for data: the token stays silent (empty).
      this.frameErrors++;
      this.lastCommand = 'badFrame';
      return new Uint8Array([0x6a, 0x80]);
    }
    const [fw1, fw2] = this.opts.firmware ?? [0x10, 0x01];
    switch (data[0]) {
      case CMD.info:
        this.lastCommand = 'info';
        return buildAnswer(
          CMD.info,
          encodeInfoPayload({
            hardwareScheme: this.opts.hardwareScheme ?? 0x70,
            firmwareMajor: fw1,
            firmwareMinor: fw2,
            rtc: true,
            interval: this.interval,
          }),
        );
      case CMD.readCode:
        this.lastCommand = 'readCode';
        return buildAnswer(CMD.readCode, encodeCodePayload(this.code()));
      case CMD.setTime: {
        this.lastCommand = 'setTime';
        const t = parseSetTimeData(data);
        if (!t) return buildAnswer(CMD.setTime, Uint8Array.from([0x01]));
        // No authentication: whoever holds a reader sets the clock (CVE-2021-32033).
        this.clockOffsetMs = t.time * 1000 - Math.floor(this.now() / 1000) * 1000;
        return buildAnswer(CMD.setTime, new Uint8Array());
      }
    }
    this.lastCommand = 'unknown';
    return new Uint8Array([0x6d, 0x00]);
  }
}

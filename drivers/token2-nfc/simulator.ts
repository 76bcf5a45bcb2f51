/**
 * The device side of the Token2 protocol, written from docs/protocols/token2-nfc.md and the
 * open firmware's behaviour: serial, seed, config, its own clock, restricted
 * sync or not, and a count of failed authentications. It answers APDUs like a
 * token would; tests, the demo, the bench and `tokensmith simulate` use it.
 */
import {
  CLA_PLAIN,
  CLA_SECURE,
  INS,
  SW,
  algorithmOf,
  authData,
  displayTimeoutSeconds,
  openSeedBody,
  parseCommand,
  parseConfigBody,
  periodOf,
  productForSerial,
  wipesSeedOnConfig,
  type Token2Model,
} from './protocol.js';

/** A contactless ISO 14443-4 card as PC/SC shows it (3B 80 80 01 01: no historical bytes). */
export const SIMULATOR_ATR = Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]);

export const DEFAULT_SERIALS: Record<Token2Model, string> = {
  'token2-card': '86596220000001',
  'token2-fob': '86596100000001',
  'token2-fob-c302': '86596320000001',
};

export interface SimulatorOptions {
  model: Token2Model;
  serial?: string;
  /** Whether a config write wipes the seed (default: every model but the C302-i). */
  restricted?: boolean;
  /** The token's clock minus the host's, in seconds, before any config write. */
  clockOffset?: number;
  /** Host clock in ms (injected so tests and cassettes are repeatable). */
  now?: () => number;
  /** Randomness for challenges (injected for repeatable cassettes). */
  random?: (n: number) => Uint8Array;
  /** A locked key: every authentication answers 6983. */
  keyLocked?: boolean;
  seed?: Uint8Array | null;
  algorithmCode?: number;
  periodCode?: number;
  displayTimeoutCode?: number;
  /** Called after each command with the new state (the --state file). */
  onChange?: (state: SimulatorState) => void;
}

/** What the simulator holds, as the --state file shows it. Test seeds only. */
export interface SimulatorState {
  serial: string;
  model: Token2Model;
  product: string | null;
  restricted: boolean;
  seedHex: string | null;
  seedBytes: number;
  algorithm: string | null;
  algorithmCode: number;
  period: number | null;
  periodCode: number;
  displayTimeout: number | null;
  displayTimeoutCode: number;
  /** The token's clock now, UTC seconds. */
  clock: number;
  /** The token's clock minus the host's, in seconds. */
  clockOffset: number;
  authFailures: number;
  authenticated: boolean;
  commands: number;
  lastCommand: string | null;
  lastStatus: string | null;
}

function defaultRandom(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

export class Token2Simulator {
  readonly atr = SIMULATOR_ATR;
  readonly serial: string;
  readonly model: Token2Model;
  readonly restricted: boolean;
  private seed: Uint8Array | null;
  private algorithmCode: number;
  private periodCode: number;
  private displayTimeoutCode: number;
  private clockOffsetMs: number;
  private authFailures = 0;
  private challenge: Uint8Array | null = null;
  private authenticated = false;
  private commands = 0;
  private lastCommand: string | null = null;
  private lastStatus: string | null = null;
  keyLocked: boolean;
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;
  private readonly onChange?: (s: SimulatorState) => void;

  constructor(opts: SimulatorOptions) {
    this.model = opts.model;
    this.serial = opts.serial ?? DEFAULT_SERIALS[opts.model];
    if (!/^[\x20-\x7e]{1,32}$/.test(this.serial))
      throw new RangeError(`simulator serial must be 1 to 32 printable ASCII characters`);
    this.restricted = opts.restricted ?? wipesSeedOnConfig(opts.model);
    this.seed = opts.seed ? Uint8Array.from(opts.seed) : null;
    this.algorithmCode = opts.algorithmCode ?? 1;
    this.periodCode = opts.periodCode ?? 0x1e;
    this.displayTimeoutCode = opts.displayTimeoutCode ?? 1;
    this.clockOffsetMs = (opts.clockOffset ?? 0) * 1000;
    this.keyLocked = opts.keyLocked ?? false;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? defaultRandom;
    this.onChange = opts.onChange;
  }

  /** The token's clock, UTC seconds. */
  clock(): number {
    return Math.floor((this.now() + this.clockOffsetMs) / 1000);
  }

  state(): SimulatorState {
    return {
      serial: this.serial,
      model: this.model,
      product: productForSerial(this.serial)?.product ?? null,
      restricted: this.restricted,
      seedHex: this.seed ? Buffer.from(this.seed).toString('hex') : null,
      seedBytes: this.seed?.length ?? 0,
      algorithm: algorithmOf(this.algorithmCode),
      algorithmCode: this.algorithmCode,
      period: periodOf(this.periodCode),
      periodCode: this.periodCode,
      displayTimeout: displayTimeoutSeconds(this.displayTimeoutCode),
      displayTimeoutCode: this.displayTimeoutCode,
      clock: this.clock(),
      clockOffset: Math.round(this.clockOffsetMs / 1000),
      authFailures: this.authFailures,
      authenticated: this.authenticated,
      commands: this.commands,
      lastCommand: this.lastCommand,
      lastStatus: this.lastStatus,
    };
  }

  /** The seed the token holds (tests only: a real token never gives it back). */
  heldSeed(): Uint8Array | null {
    return this.seed ? Uint8Array.from(this.seed) : null;
  }

  /** A new session on the reader: the authentication does not survive leaving the field. */
  reset(): void {
    this.challenge = null;
    this.authenticated = false;
  }

  process(apdu: Uint8Array): Uint8Array {
    this.commands++;
    const { name, resp } = this.dispatch(apdu);
    this.lastCommand = name;
    this.lastStatus = Buffer.from(resp.subarray(resp.length - 2))
      .toString('hex')
      .toUpperCase();
    this.onChange?.(this.state());
    return resp;
  }

  private dispatch(apdu: Uint8Array): { name: string; resp: Uint8Array } {
    const c = parseCommand(apdu);
    if (c.error) return { name: 'malformed', resp: sw(c.error.sw) };
    if (c.cla === CLA_PLAIN) {
      if (c.ins === INS.info) return { name: 'info', resp: this.info() };
      // Both forms are in use: `80 4B 08 00 00` and `80 4B 08 00 01 00`.
      if (c.ins === INS.challenge && c.p1 === 0x08) return { name: 'challenge', resp: this.getChallenge() };
      if (c.ins === INS.authenticate) return { name: 'authenticate', resp: this.authenticate(c.body) };
      return { name: 'unknown', resp: sw(SW.unknownIns) };
    }
    if (c.cla === CLA_SECURE) {
      const name = c.ins === INS.writeSeed ? 'writeSeed' : c.ins === INS.writeConfig ? 'writeConfig' : 'unknown';
      if (!c.macOk) return { name, resp: sw(SW.authFailed) };
      if (c.ins === INS.writeSeed && c.p1 === 0x01) return { name, resp: this.writeSeed(c.body) };
      if (c.ins === INS.writeConfig) return { name, resp: this.writeConfig(c.body) };
      return { name, resp: sw(SW.unknownIns) };
    }
    return { name: 'unknown', resp: sw(SW.unknownCla) };
  }

  private info(): Uint8Array {
    const serial = Buffer.from(this.serial, 'ascii');
    const t = this.clock() >>> 0;
    return Uint8Array.from([
      0x00,
      0x00,
      0x00,
      serial.length,
      ...serial,
      0x00,
      0x00,
      t >>> 24,
      (t >>> 16) & 0xff,
      (t >>> 8) & 0xff,
      t & 0xff,
      0x90,
      0x00,
    ]);
  }

  private getChallenge(): Uint8Array {
    this.challenge = Uint8Array.from(this.random(8));
    this.authenticated = false;
    return Uint8Array.from([...this.challenge, 0x90, 0x00]);
  }

  private authenticate(data: Uint8Array): Uint8Array {
    if (this.keyLocked) {
      this.authFailures++;
      return sw(SW.authFailed);
    }
    if (!this.challenge || data.length !== 16) return sw(SW.badData);
    const want = authData(this.challenge);
    this.challenge = null;
    if (!want.every((b, i) => b === data[i])) {
      this.authFailures++;
      return sw(SW.authFailed);
    }
    this.authenticated = true;
    return sw(SW.ok);
  }

  private writeSeed(body: Uint8Array): Uint8Array {
    if (!this.authenticated) return sw(SW.authFailed);
    const seed = openSeedBody(body);
    if (!seed) return sw(SW.badData);
    this.seed?.fill(0);
    this.seed = seed;
    return sw(SW.ok);
  }

  private writeConfig(body: Uint8Array): Uint8Array {
    if (!this.authenticated) return sw(SW.authFailed);
    const cfg = parseConfigBody(body);
    if (!cfg) return sw(SW.badData);
    this.displayTimeoutCode = cfg.displayTimeoutCode;
    this.algorithmCode = cfg.algorithmCode;
    this.periodCode = cfg.periodCode;
    this.clockOffsetMs = cfg.time * 1000 - this.now();
    if (this.restricted && this.seed) {
      this.seed.fill(0);
      this.seed = null;
    }
    return sw(SW.ok);
  }
}

function sw(word: number): Uint8Array {
  return Uint8Array.from([word >> 8, word & 0xff]);
}

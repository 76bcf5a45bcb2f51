/**
 * The device side of the Molto2 / Molto2v2, written from docs/protocols/token2-molto2.md and
 * the vendor's protocol notes: 50 or 100 profiles, each with its own seed,
 * title, config and clock; a customer key with a tries counter (63NN, then
 * blocked); 6A83 for an empty slot; 9060 for the button-confirmed factory
 * reset and key change (the button press is simulated at once, or never).
 */
import { Sm4 } from '../../src/core/sm4.js';
import {
  CLA_PLAIN,
  CLA_SECURE,
  FACTORY_CUSTOMER_KEY,
  INS,
  PROFILE_COUNTS,
  SW,
  algorithmOf,
  authData,
  deriveSm4Key,
  displayTimeoutOf,
  encodeProfileBlock,
  periodOf,
  type Molto2Variant,
} from './protocol.js';
import {
  openChangeKeyBody,
  openSeedBody,
  openTitleBody,
  parseCommand,
  parseConfigBody,
  type ParsedCommand,
} from './device-side.js';

/** A CCID token's answer to reset; the historical bytes say "MOLTO2" (simulator only: the real one is not published). */
export const MOLTO2_SIMULATOR_ATR = Uint8Array.from([0x3b, 0x86, 0x80, 0x01, 0x4d, 0x4f, 0x4c, 0x54, 0x4f, 0x32, 0x60]);

export const DEFAULT_MOLTO2_SERIAL = '2310000001';
export const DEFAULT_TRIES = 10;

export type { Molto2ProfileState, Molto2SimulatorOptions, Molto2SimulatorState } from './simulator-state.js';
import {
  blankProfile,
  type Molto2ProfileState,
  type Molto2SimulatorOptions,
  type Molto2SimulatorState,
  type Profile,
} from './simulator-state.js';

const sw = (w: number) => Uint8Array.from([w >> 8, w & 0xff]);

/** One command's name (for the state view) and the response APDU. */
interface Reply {
  name: string;
  resp: Uint8Array;
}

const SECURE_COMMAND_NAMES: Record<number, string> = {
  [INS.writeSeed]: 'writeSeed',
  [INS.writeTitle]: 'writeTitle',
  [INS.writeConfig]: 'writeConfig',
  [INS.changeKey]: 'changeKey',
};

export class Molto2Simulator {
  readonly atr = MOLTO2_SIMULATOR_ATR;
  readonly serial: string;
  readonly variant: Molto2Variant;
  private cipher: Sm4;
  private keyIsFactory: boolean;
  private profiles: Profile[];
  private tries: number;
  private readonly maxTries: number;
  private challenge: Uint8Array | null = null;
  private authenticated = false;
  private screenLocked = false;
  private commands = 0;
  private lastCommand: string | null = null;
  private lastStatus: string | null = null;
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;
  private readonly opts: Molto2SimulatorOptions;

  constructor(opts: Molto2SimulatorOptions = {}) {
    this.opts = opts;
    this.variant = opts.variant ?? 'molto2v2';
    this.serial = opts.serial ?? DEFAULT_MOLTO2_SERIAL;
    const key = opts.customerKey ?? FACTORY_CUSTOMER_KEY;
    this.cipher = new Sm4(deriveSm4Key(key));
    this.keyIsFactory = Buffer.from(key).equals(Buffer.from(FACTORY_CUSTOMER_KEY));
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? ((n) => globalThis.crypto.getRandomValues(new Uint8Array(n)));
    this.maxTries = opts.tries ?? DEFAULT_TRIES;
    this.tries = this.maxTries;
    this.profiles = Array.from({ length: PROFILE_COUNTS[this.variant] }, () =>
      blankProfile((opts.clockOffset ?? 0) * 1000),
    );
  }

  get profileCount(): number {
    return this.profiles.length;
  }

  private clockOf(p: Profile): number {
    return Math.floor((this.now() + p.clockOffsetMs) / 1000);
  }

  state(): Molto2SimulatorState {
    return {
      serial: this.serial,
      model: 'token2-molto2',
      variant: this.variant,
      profileCount: this.profiles.length,
      triesLeft: this.tries,
      blocked: this.tries === 0,
      screenLocked: this.screenLocked,
      customerKeyIsFactory: this.keyIsFactory,
      authenticated: this.authenticated,
      profiles: this.profiles.flatMap((p, i) => (p.seed || p.timeConfigured || p.title ? [this.profileState(i)] : [])),
      commands: this.commands,
      lastCommand: this.lastCommand,
      lastStatus: this.lastStatus,
    };
  }

  profileState(i: number): Molto2ProfileState {
    const p = this.profiles[i]!;
    return {
      profile: i,
      title: p.title,
      seedHex: p.seed ? Buffer.from(p.seed).toString('hex') : null,
      algorithm: algorithmOf(p.algorithmCode),
      digits: p.digits,
      period: periodOf(p.periodCode),
      displayTimeout: displayTimeoutOf(p.displayTimeoutCode),
      clock: this.clockOf(p),
      clockOffset: Math.round(p.clockOffsetMs / 1000),
    };
  }

  /** Tests only: a real device never gives a seed back. */
  heldSeed(profile: number): Uint8Array | null {
    const s = this.profiles[profile]?.seed;
    return s ? Uint8Array.from(s) : null;
  }

  /** Moves every profile's clock (tests: a clock that drifted). */
  shiftClock(seconds: number): void {
    for (const p of this.profiles) p.clockOffsetMs += seconds * 1000;
  }

  /** Unplugged: the session ends. */
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
    this.opts.onChange?.(this.state());
    return resp;
  }

  private dispatch(apdu: Uint8Array): Reply {
    const c = parseCommand(apdu, this.cipher);
    if (c.error) return { name: 'malformed', resp: sw(c.error.sw) };
    if (c.cla === CLA_PLAIN) return this.dispatchPlain(c);
    if (c.cla !== CLA_SECURE) return { name: 'unknown', resp: sw(SW.unknownCla) };
    return this.dispatchSecure(c);
  }

  private profileAt(p: number): Profile | null {
    return p < this.profiles.length ? this.profiles[p]! : null;
  }

  /** Plain-class commands: info, challenge, authenticate, reset, delete, screen lock. */
  private dispatchPlain(c: ParsedCommand): Reply {
    switch (c.ins) {
      case INS.info:
        return this.readInfo(c);
      case INS.challenge:
        if (c.p1 !== 0x08) return { name: 'challenge', resp: sw(SW.badData) };
        this.challenge = Uint8Array.from(this.random(8));
        this.authenticated = false;
        return { name: 'challenge', resp: Uint8Array.from([...this.challenge, 0x90, 0x00]) };
      case INS.authenticate:
        return { name: 'authenticate', resp: this.authenticate(c.body) };
      case INS.factoryReset:
        return { name: 'factoryReset', resp: this.factoryReset() };
      case INS.deleteSeed:
        return { name: 'deleteSeed', resp: this.deleteSeed(c.p2) };
      case INS.screen: {
        const name = c.body.length ? 'unlockScreen' : 'lockScreen';
        if (this.opts.screenLock === false) return { name, resp: sw(SW.unknownIns) };
        if (!this.authenticated) return { name, resp: sw(SW.notAuthenticated) };
        this.screenLocked = c.body.length === 0;
        return { name, resp: sw(SW.ok) };
      }
    }
    return { name: 'unknown', resp: sw(SW.unknownIns) };
  }

  /** INS info: the device info with an empty body, one profile's public block with body 70. */
  private readInfo(c: ParsedCommand): Reply {
    if (c.body.length === 0) return { name: 'info', resp: this.info() };
    if (c.body.length === 1 && c.body[0] === 0x70) {
      const p = this.profileAt(c.p2);
      if (!p) return { name: 'readProfile', resp: sw(SW.badProfile) };
      return { name: 'readProfile', resp: this.publicBlock(p) };
    }
    return { name: 'info', resp: sw(SW.badData) };
  }

  private deleteSeed(profile: number): Uint8Array {
    if (!this.authenticated) return sw(SW.notAuthenticated);
    const p = this.profileAt(profile);
    if (!p) return sw(SW.badProfile);
    if (!p.seed) return sw(SW.emptySlot);
    p.seed.fill(0);
    p.seed = null;
    return sw(SW.ok);
  }

  /** Secure-class (MACed, encrypted) commands: seed, title, config and key writes. */
  private dispatchSecure(c: ParsedCommand): Reply {
    const name = SECURE_COMMAND_NAMES[c.ins] ?? 'unknown';
    if (name === 'unknown') return { name, resp: sw(SW.unknownIns) };
    if (!this.authenticated) return { name, resp: sw(SW.notAuthenticated) };
    if (!c.macOk) return { name, resp: sw(SW.badMac) };
    if (c.ins === INS.changeKey) return { name, resp: this.changeKey(c.body) };
    const p = this.profileAt(c.p2);
    if (!p) return { name, resp: sw(SW.badProfile) };
    if (c.ins === INS.writeSeed) return { name, resp: this.writeSeed(p, c) };
    if (c.ins === INS.writeTitle) return { name, resp: this.writeTitle(p, c.body) };
    return this.writeConfig(p, c.body);
  }

  private changeKey(body: Uint8Array): Uint8Array {
    const newKey = openChangeKeyBody(this.cipher, body);
    if (!newKey) return sw(SW.badData);
    if (this.opts.pressButton !== false) {
      this.cipher = new Sm4(newKey);
      this.keyIsFactory = Buffer.from(newKey).equals(Buffer.from(deriveSm4Key(FACTORY_CUSTOMER_KEY)));
      this.reset();
    }
    return sw(SW.waitButton);
  }

  private writeSeed(p: Profile, c: ParsedCommand): Uint8Array {
    if (c.p1 !== 0x01) return sw(SW.badData);
    const seed = openSeedBody(this.cipher, c.body);
    if (!seed) return sw(SW.badData);
    p.seed?.fill(0);
    p.seed = seed === 'clear' ? null : seed;
    return sw(SW.ok);
  }

  private writeTitle(p: Profile, body: Uint8Array): Uint8Array {
    const title = openTitleBody(this.cipher, body);
    if (title === null) return sw(SW.badData);
    p.title = title;
    return sw(SW.ok);
  }

  /** A full config block (algorithm, period, digits, timeout, time) or a time-only sync. */
  private writeConfig(p: Profile, body: Uint8Array): Reply {
    const name = 'writeConfig';
    const cfg = parseConfigBody(body);
    if (!cfg) return { name, resp: sw(SW.badData) };
    if (cfg.kind === 'full') {
      if (
        !algorithmOf(cfg.algorithmCode) ||
        !periodOf(cfg.periodCode) ||
        ![4, 6, 8, 10].includes(cfg.digits) ||
        !displayTimeoutOf(cfg.displayTimeoutCode)
      )
        return { name, resp: sw(SW.badData) };
      Object.assign(p, {
        algorithmCode: cfg.algorithmCode,
        periodCode: cfg.periodCode,
        digits: cfg.digits,
        displayTimeoutCode: cfg.displayTimeoutCode,
      });
    }
    // The device keeps the host's sub-second phase: its clock reads `time` for the rest of this host second.
    p.clockOffsetMs = cfg.time * 1000 - Math.floor(this.now() / 1000) * 1000;
    p.timeConfigured = cfg.time;
    return { name: cfg.kind === 'time' ? 'syncTime' : 'writeConfig', resp: sw(SW.ok) };
  }

  private info(): Uint8Array {
    const serial = Buffer.from(this.serial, 'ascii');
    const t = Math.floor(this.now() / 1000) >>> 0;
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

  private publicBlock(p: Profile): Uint8Array {
    const block = encodeProfileBlock({
      flag: p.seed ? 1 : 0,
      title: p.title,
      rtcTime: this.clockOf(p),
      timeConfigured: p.timeConfigured,
      algorithmCode: p.algorithmCode,
      periodCode: p.periodCode,
      digits: p.digits,
      seedPresent: Boolean(p.seed),
    });
    return Uint8Array.from([...block, 0x90, 0x00]);
  }

  private authenticate(data: Uint8Array): Uint8Array {
    if (this.tries === 0) return sw(SW.authBlocked);
    if (!this.challenge || data.length !== 16) return sw(SW.badData);
    const want = authData(this.cipher, this.challenge);
    this.challenge = null;
    if (!want.every((b, i) => b === data[i])) {
      this.tries--;
      return sw(this.tries === 0 ? SW.authBlocked : 0x6300 | this.tries);
    }
    this.tries = this.maxTries;
    this.authenticated = true;
    return sw(SW.ok);
  }

  private factoryReset(): Uint8Array {
    if (this.opts.pressButton !== false) {
      for (const p of this.profiles) p.seed?.fill(0);
      this.profiles = this.profiles.map(() => blankProfile(0));
      this.cipher = new Sm4(deriveSm4Key(FACTORY_CUSTOMER_KEY));
      this.keyIsFactory = true;
      this.tries = this.maxTries;
      this.screenLocked = false;
      this.reset();
    }
    return sw(SW.waitButton);
  }
}

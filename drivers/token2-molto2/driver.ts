/**
 * Runs the Molto2 command sequences over any APDU transport. A failed
 * authentication is never retried (63NN counts down to a blocked key); a
 * profile that holds a seed is not overwritten unless the caller says so;
 * every write is checked by reading the profile's public block back.
 */
import { DeviceError, PolicyError, TokensmithError } from '../../src/core/errors.js';
import { Sm4 } from '../../src/core/sm4.js';
import { exchange } from '../../src/transport/iso7816.js';
import type { ApduTransport } from '../../src/transport/types.js';
import {
  FACTORY_CUSTOMER_KEY,
  PROFILE_COUNTS,
  ProtocolError,
  SW,
  algorithmOf,
  buildAuthenticate,
  buildChangeCustomerKey,
  buildDeleteSeed,
  buildFactoryReset,
  buildGetChallenge,
  buildGetInfo,
  buildLockScreen,
  buildReadProfile,
  buildSyncTime,
  buildUnlockScreen,
  buildWriteConfig,
  buildWriteSeed,
  buildWriteTitle,
  deriveSm4Key,
  parseInfo,
  parseProfileBlock,
  periodOf,
  triesLeft,
  type DisplayTimeoutSeconds,
  type Molto2Algorithm,
  type Molto2Digits,
  type Molto2Variant,
} from './protocol.js';
import {
  Molto2AuthError,
  Molto2EmptySlotError,
  Molto2StatusError,
  Molto2WriteError,
  STEP_WORDS,
  type Molto2Step,
} from './driver-errors.js';

export interface Molto2DeviceInfo {
  serial: string;
  deviceTime: number;
  /** The device clock minus the host's, in seconds. */
  offset: number;
}

export interface ProfileView {
  profile: number;
  title: string;
  algorithm: Molto2Algorithm | null;
  digits: number;
  period: number | null;
  seedPresent: boolean;
  /** The profile's clock minus the host's, in seconds. */
  clockOffset: number;
  /** When its clock was last set (UTC seconds; 0 = never). */
  timeConfigured: number;
}

export interface Molto2Settings {
  algorithm: Molto2Algorithm;
  digits: Molto2Digits;
  period: 30 | 60;
  displayTimeout: DisplayTimeoutSeconds;
}

export interface Molto2DriverOptions {
  /** The customer key (default: the factory key). Never logged. */
  customerKey?: Uint8Array;
  now?: () => number;
  timeoutMs?: number;
  onStep?: (step: string) => void;
}

export {
  Molto2AuthError,
  Molto2EmptySlotError,
  Molto2StatusError,
  Molto2WriteError,
  type Molto2Step,
} from './driver-errors.js';
export interface WriteProfileResult {
  info: Molto2DeviceInfo;
  before: ProfileView;
  after: ProfileView;
  overwrote: boolean;
  timeWritten: number;
  commands: number;
}

export class Molto2Driver {
  private sent = 0;
  private readonly now: () => number;
  private readonly cipher: Sm4;

  constructor(
    readonly transport: ApduTransport,
    private readonly opts: Molto2DriverOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.cipher = new Sm4(deriveSm4Key(opts.customerKey ?? FACTORY_CUSTOMER_KEY));
  }

  get commandCount(): number {
    return this.sent;
  }

  private hostSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** One command through the ISO 7816 layer (61xx / 6Cxx followed as on the Token2 NFC tokens), then 9000 (or one of `accept`) checked. */
  private async command(
    step: Molto2Step,
    apdu: Uint8Array,
    serial?: string,
    accept: number[] = [],
  ): Promise<{ data: Uint8Array; sw: number }> {
    this.opts.onStep?.(STEP_WORDS[step]);
    const r = await exchange(this.transport, apdu, { timeoutMs: this.opts.timeoutMs, getResponseClass: 'command' });
    this.sent += r.transmits;
    if (r.sw === SW.ok || accept.includes(r.sw)) return r;
    if (step === 'authenticate' && (triesLeft(r.sw) !== null || r.sw === SW.authBlocked))
      throw new Molto2AuthError(r.sw, triesLeft(r.sw) ?? 0, serial);
    throw new Molto2StatusError(step, r.sw, serial);
  }

  async readInfo(): Promise<Molto2DeviceInfo> {
    const { data } = await this.command('info', buildGetInfo());
    try {
      const i = parseInfo(data);
      return { serial: i.serial, deviceTime: i.deviceTime, offset: i.deviceTime - this.hostSeconds() };
    } catch (e) {
      if (e instanceof ProtocolError)
        throw new DeviceError(`this does not look like a Token2 Molto2: ${e.message}`, { code: 'bad-answer' });
      throw e;
    }
  }

  async readProfile(profile: number, serial?: string, step: Molto2Step = 'readProfile'): Promise<ProfileView> {
    const { data } = await this.command(step, buildReadProfile(profile), serial);
    let b;
    try {
      b = parseProfileBlock(data);
    } catch (e) {
      throw new DeviceError(`profile ${profile}: ${(e as Error).message}`, { code: 'bad-answer', where: serial });
    }
    return {
      profile,
      title: b.title,
      algorithm: algorithmOf(b.algorithmCode),
      digits: b.digits,
      period: periodOf(b.periodCode),
      seedPresent: b.seedPresent,
      clockOffset: b.rtcTime - this.hostSeconds(),
      timeConfigured: b.timeConfigured,
    };
  }

  /** Molto2 (50) or Molto2v2 (100): profile 50 answers 6A86 on a Molto2. */
  async variant(serial?: string): Promise<Molto2Variant> {
    const r = await exchange(this.transport, buildReadProfile(PROFILE_COUNTS.molto2), {
      timeoutMs: this.opts.timeoutMs,
      getResponseClass: 'command',
    });
    this.sent += r.transmits;
    if (r.sw === SW.ok) return 'molto2v2';
    if (r.sw === SW.badProfile) return 'molto2';
    throw new Molto2StatusError('readProfile', r.sw, serial);
  }

  async listProfiles(): Promise<{ info: Molto2DeviceInfo; variant: Molto2Variant; profiles: ProfileView[] }> {
    const info = await this.readInfo();
    const variant = await this.variant(info.serial);
    const profiles: ProfileView[] = [];
    for (let p = 0; p < PROFILE_COUNTS[variant]; p++) profiles.push(await this.readProfile(p, info.serial));
    return { info, variant, profiles };
  }

  /** Challenge then answer; one attempt only. */
  async authenticate(serial?: string): Promise<void> {
    const { data } = await this.command('challenge', buildGetChallenge(), serial);
    if (data.length !== 8)
      throw new DeviceError(`getting the challenge: ${data.length} bytes, expected 8`, {
        code: 'bad-answer',
        where: serial,
      });
    await this.command('authenticate', buildAuthenticate(this.cipher, data), serial);
  }

  /**
   * Writes seed, title and config to one profile. A profile holding a seed is
   * refused (exit 5) unless `force`, which deletes that seed first.
   * `beforeWrite` runs once the device and the profile are known; throw to stop with nothing written.
   */
  async writeProfile(
    profile: number,
    seed: Uint8Array,
    settings: Molto2Settings,
    opts: {
      title?: string;
      force?: boolean;
      beforeWrite?: (info: Molto2DeviceInfo, before: ProfileView) => Promise<void> | void;
    } = {},
  ): Promise<WriteProfileResult> {
    const start = this.sent;
    const info = await this.readInfo();
    const before = await this.readProfile(profile, info.serial);
    if (before.seedPresent && !opts.force) {
      throw new PolicyError(
        `refused: profile ${profile} of the Molto2 ${info.serial} holds a seed${before.title ? ` ('${before.title}')` : ''}; writing replaces it. Add --force to overwrite it; nothing was written`,
        {
          code: 'profile-has-seed',
          where: info.serial,
        },
      );
    }
    await opts.beforeWrite?.(info, before);
    const written: Molto2Step[] = [];
    let step: Molto2Step = 'challenge';
    try {
      await this.authenticate(info.serial);
      if (before.seedPresent) {
        step = 'deleteSeed';
        await this.command(step, buildDeleteSeed(profile), info.serial);
        written.push(step);
      }
      step = 'writeSeed';
      const apdu = buildWriteSeed(this.cipher, profile, seed);
      try {
        await this.command(step, apdu, info.serial);
      } finally {
        apdu.fill(0);
      }
      written.push(step);
      if (opts.title !== undefined) {
        step = 'writeTitle';
        await this.command(step, buildWriteTitle(this.cipher, profile, opts.title), info.serial);
        written.push(step);
      }
      step = 'writeConfig';
      const timeWritten = this.hostSeconds();
      await this.command(step, buildWriteConfig(this.cipher, profile, { ...settings, time: timeWritten }), info.serial);
      written.push(step);
      step = 'verify';
      const after = await this.readProfile(profile, info.serial, 'verify');
      const wrong: string[] = [];
      if (!after.seedPresent) wrong.push('no seed');
      if (after.algorithm !== settings.algorithm) wrong.push(`algorithm ${after.algorithm}`);
      if (after.digits !== settings.digits) wrong.push(`${after.digits} digits`);
      if (after.period !== settings.period) wrong.push(`time step ${after.period}`);
      if (opts.title !== undefined && after.title !== opts.title) wrong.push(`title '${after.title}'`);
      if (Math.abs(after.clockOffset) > 2) wrong.push(`clock ${after.clockOffset} s off`);
      if (wrong.length)
        throw new DeviceError(`the read-back shows ${wrong.join(', ')}`, { code: 'verify-failed', where: info.serial });
      return { info, before, after, overwrote: before.seedPresent, timeWritten, commands: this.sent - start };
    } catch (e) {
      if (e instanceof Molto2AuthError && written.length === 0) throw e;
      if (e instanceof TokensmithError) throw new Molto2WriteError(profile, step, written, info.serial, e);
      throw e;
    }
  }

  /** Sets the clock of the given profiles (or all of them), then reads the first and the last back. */
  async syncProfiles(which: number[] | 'all'): Promise<{
    info: Molto2DeviceInfo;
    profiles: number[];
    offsetsBefore: number[];
    offsetAfter: number;
    commands: number;
  }> {
    const start = this.sent;
    const info = await this.readInfo();
    const list = which === 'all' ? [...Array(PROFILE_COUNTS[await this.variant(info.serial)]).keys()] : which;
    const before: number[] = [];
    for (const p of [list[0]!, list[list.length - 1]!])
      before.push((await this.readProfile(p, info.serial)).clockOffset);
    await this.authenticate(info.serial);
    for (const p of list)
      await this.command('syncTime', buildSyncTime(this.cipher, p, this.hostSeconds()), info.serial);
    let worst = 0;
    for (const p of new Set([list[0]!, list[list.length - 1]!])) {
      const after = await this.readProfile(p, info.serial, 'verify');
      if (Math.abs(after.clockOffset) > Math.abs(worst)) worst = after.clockOffset;
    }
    if (Math.abs(worst) > 2)
      throw new DeviceError(`after the sync a profile clock still reads ${worst} s off`, {
        code: 'clock-check-failed',
        where: info.serial,
      });
    return { info, profiles: list, offsetsBefore: before, offsetAfter: worst, commands: this.sent - start };
  }

  /** Deletes one profile's seed (6A83: it was empty); the read-back must show no seed. */
  async deleteSeed(profile: number): Promise<{ info: Molto2DeviceInfo; before: ProfileView; commands: number }> {
    const start = this.sent;
    const info = await this.readInfo();
    const before = await this.readProfile(profile, info.serial);
    await this.authenticate(info.serial);
    const r = await this.command('deleteSeed', buildDeleteSeed(profile), info.serial, [SW.emptySlot]);
    if (r.sw === SW.emptySlot) throw new Molto2EmptySlotError(profile, info.serial);
    const after = await this.readProfile(profile, info.serial, 'verify');
    if (after.seedPresent)
      throw new DeviceError(`profile ${profile} still shows a seed after the delete`, {
        code: 'verify-failed',
        where: info.serial,
      });
    return { info, before, commands: this.sent - start };
  }

  async setScreenLock(locked: boolean): Promise<Molto2DeviceInfo> {
    const info = await this.readInfo();
    await this.authenticate(info.serial);
    await this.command('screen', locked ? buildLockScreen() : buildUnlockScreen(), info.serial);
    return info;
  }

  /** Answers 9060: the device waits for the ▲ button before it takes the new key. */
  async changeCustomerKey(newCustomerKey: Uint8Array): Promise<{ info: Molto2DeviceInfo; waitingForButton: boolean }> {
    const info = await this.readInfo();
    await this.authenticate(info.serial);
    const apdu = buildChangeCustomerKey(this.cipher, newCustomerKey);
    try {
      const r = await this.command('changeKey', apdu, info.serial, [SW.waitButton]);
      return { info, waitingForButton: r.sw === SW.waitButton };
    } finally {
      apdu.fill(0);
    }
  }

  /** Answers 9060: every profile and the customer key go once the ▲ button is pressed. */
  async factoryReset(): Promise<{ info: Molto2DeviceInfo; waitingForButton: boolean }> {
    const info = await this.readInfo();
    const r = await this.command('factoryReset', buildFactoryReset(), info.serial, [SW.waitButton]);
    return { info, waitingForButton: r.sw === SW.waitButton };
  }
}

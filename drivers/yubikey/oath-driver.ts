/**
 * The OATH application of a YubiKey over any ApduTransport: select it,
 * unlock it with the access password (one VALIDATE per session), and list,
 * write, delete and calculate credentials. Answers longer than a frame are
 * fetched with SEND REMAINING (A5) by the shared ISO 7816 exchange.
 */
import { toHex } from '../../src/core/bytes.js';
import { DeviceError } from '../../src/core/errors.js';
import { exchange, isoStatusText, swHex } from '../../src/transport/iso7816.js';
import type { ApduTransport } from '../../src/transport/types.js';
import {
  INS,
  SW,
  TAG,
  calculateAllApdu,
  calculateApdu,
  deleteApdu,
  deriveAccessKey,
  formatTruncated,
  hmacSha1,
  listApdu,
  oathStatusText,
  parseCalculateAll,
  parseList,
  parseSelect,
  parseTlvs,
  putApdu,
  selectOathApdu,
  setCodeApdu,
  timeStepChallenge,
  validateApdu,
  type CalculatedEntry,
  type CredentialToWrite,
  type ListedCredential,
  type OathType,
  type SelectInfo,
} from './oath-protocol.js';

/** Compares in time independent of where the bytes differ (the key's VALIDATE answer). */
function sameInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The access password, or how to get it once the key says it has one (a prompt). */
export type PasswordSource = string | undefined | (() => Promise<string | undefined>);

export interface OathDriverOptions {
  now?: () => number;
  /** The host's 8-byte challenges (VALIDATE, SET CODE); random unless a replay gives them. */
  challenge?: () => Uint8Array;
}

export interface OathDeviceInfo {
  version: string;
  /** The salt in hex: the key's identity for the store (a RESET changes it). */
  deviceId: string;
  passwordSet: boolean;
}

/** The access password was wrong: nothing was read or written after the one VALIDATE. */
export class WrongPasswordError extends DeviceError {
  constructor() {
    super(
      'the YubiKey refused the OATH access password (VALIDATE answered 6984); nothing was written. Check the password and try again',
      { code: 'wrong-password' },
    );
  }
}

export class OathDriver {
  private readonly now: () => number;
  private readonly challenge: () => Uint8Array;
  private selected: SelectInfo | null = null;
  private unlocked = false;

  constructor(
    private readonly transport: ApduTransport,
    opts: OathDriverOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.challenge = opts.challenge ?? (() => globalThis.crypto.getRandomValues(new Uint8Array(8)));
  }

  /** Sends one command, follows 61xx with SEND REMAINING, and turns a status word other than 9000 into an error naming it. */
  private async send(apdu: Uint8Array, what: string): Promise<Uint8Array> {
    const r = await exchange(this.transport, apdu, { remainingIns: INS.sendRemaining });
    if (r.sw === SW.ok) return r.data;
    if (r.sw === SW.wrongResponse && apdu[1] === INS.validate) throw new WrongPasswordError();
    const meaning = oathStatusText(r.sw) ?? isoStatusText(r.sw) ?? 'unknown status';
    const code =
      r.sw === SW.authRequired
        ? 'password-required'
        : r.sw === SW.noSuchObject
          ? 'no-such-credential'
          : r.sw === SW.noSpace
            ? 'device-full'
            : 'oath-status';
    throw new DeviceError(`${what}: the YubiKey answered ${swHex(r.sw)} (${meaning})`, { code });
  }

  /** SELECT the OATH application: version, device id, whether a password is set. */
  async select(): Promise<OathDeviceInfo> {
    const data = await this.send(selectOathApdu(), 'select the OATH application').catch((e: DeviceError) => {
      throw e.code === 'no-such-credential'
        ? new DeviceError(
            `the token on "${this.transport.readerName}" has no YubiKey OATH application (SELECT answered 6A82)`,
            { code: 'not-a-yubikey' },
          )
        : e;
    });
    try {
      this.selected = parseSelect(data);
    } catch (e) {
      throw new DeviceError(`the OATH SELECT answer is malformed: ${(e as Error).message}`, { code: 'bad-answer' });
    }
    this.unlocked = this.selected.challenge === null;
    return {
      version: this.selected.version,
      deviceId: toHex(this.selected.salt).toLowerCase(),
      passwordSet: this.selected.challenge !== null,
    };
  }

  get isLocked(): boolean {
    return !this.unlocked;
  }

  /**
   * One VALIDATE with the key derived from `password` (a wrong one is a
   * WrongPasswordError; there is no second try in this session). Checks the
   * key's own answer to our challenge, so a card that only says 9000 is refused.
   */
  async unlock(password: string): Promise<void> {
    if (!this.selected) throw new Error('select() first');
    if (!this.selected.challenge) return;
    const key = deriveAccessKey(password, this.selected.salt);
    const mine = this.challenge();
    const data = await this.send(
      validateApdu(hmacSha1(key, this.selected.challenge), mine),
      'validate the access password',
    );
    const theirs = parseTlvs(data).find((t) => t.tag === TAG.response)?.value;
    const expected = hmacSha1(key, mine);
    key.fill(0);
    if (!theirs || theirs.length !== expected.length || !sameInConstantTime(theirs, expected)) {
      throw new DeviceError(
        'the YubiKey accepted the password but its own answer to our challenge is wrong: it is not the key it claims to be',
        { code: 'device-not-authentic' },
      );
    }
    this.unlocked = true;
  }

  /** SELECT, then VALIDATE when the key has a password (asked of `source` only then; none: a DeviceError saying a password is needed). */
  async open(source?: PasswordSource): Promise<OathDeviceInfo> {
    const info = await this.select();
    if (info.passwordSet) {
      const password = typeof source === 'function' ? await source() : source;
      if (password === undefined)
        throw new DeviceError(
          'this YubiKey has an OATH access password: give it with --password-file or --password (or at the prompt)',
          { code: 'password-required' },
        );
      await this.unlock(password);
    }
    return info;
  }

  async list(): Promise<ListedCredential[]> {
    const data = await this.send(listApdu(), 'list the credentials');
    return parseList(data);
  }

  async put(c: CredentialToWrite): Promise<void> {
    await this.send(putApdu(c), `write credential '${c.name}'`);
  }

  async delete(name: string): Promise<void> {
    await this.send(deleteApdu(name), `delete credential '${name}'`);
  }

  /** The code of one credential now (TOTP: at the driver's clock; HOTP: its next counter, which the key advances). */
  async calculate(name: string, type: OathType, period: number): Promise<string> {
    const challenge = type === 'totp' ? timeStepChallenge(this.now() / 1000, period) : new Uint8Array();
    const data = await this.send(calculateApdu(name, challenge, true), `calculate '${name}'`);
    const value = parseTlvs(data).find((t) => t.tag === TAG.truncated)?.value;
    if (!value || value.length !== 5)
      throw new DeviceError(`calculate '${name}': the answer has no truncated code (76)`, { code: 'bad-answer' });
    return formatTruncated(value);
  }

  /** Every credential with its 30-second code (HOTP and touch credentials give none). */
  async calculateAll(): Promise<CalculatedEntry[]> {
    const data = await this.send(calculateAllApdu(timeStepChallenge(this.now() / 1000, 30), true), 'calculate all');
    return parseCalculateAll(data);
  }

  /** SET CODE: a new access password (null clears it). The session must be unlocked first. */
  async setPassword(password: string | null): Promise<void> {
    if (!this.selected) throw new Error('select() first');
    if (password === null) return void (await this.send(setCodeApdu(null), 'clear the access password'));
    const key = deriveAccessKey(password, this.selected.salt);
    await this.send(setCodeApdu(key, this.challenge()), 'set the access password');
    key.fill(0);
  }
}

export interface OathCredentialSpec extends CredentialToWrite {
  /** TOTP time step in seconds (also written into the name when not 30). */
  period: number;
}

export interface OathFlashOutcome {
  info: OathDeviceInfo;
  /** A credential of this name was on the key before and was replaced. */
  replaced: boolean;
  /** The code the key gives for the new credential now (TOTP without touch), to compare with the seed's. */
  codeNow: string | null;
  credentialCount: number;
}

/**
 * One credential onto a key: open (one VALIDATE when protected), LIST, the
 * caller's check (which names the credential), PUT, LIST again (the write is there), then the key's code
 * now for a TOTP credential. HOTP is not calculated: that would move its counter.
 */
export async function flashCredential(
  driver: OathDriver,
  password: PasswordSource,
  prepare: (info: OathDeviceInfo, onKey: ListedCredential[]) => Promise<OathCredentialSpec>,
): Promise<OathFlashOutcome & { credential: OathCredentialSpec }> {
  const info = await driver.open(password);
  const before = await driver.list();
  const cred = await prepare(info, before);
  await driver.put(cred);
  const after = await driver.list();
  if (!after.some((c) => c.name === cred.name && c.type === cred.type && c.algorithm === cred.algorithm)) {
    throw new DeviceError(`the YubiKey took credential '${cred.name}' (9000) but does not list it afterwards`, {
      code: 'write-not-confirmed',
    });
  }
  const codeNow = cred.type === 'totp' && !cred.touch ? await driver.calculate(cred.name, 'totp', cred.period) : null;
  return {
    info,
    replaced: before.some((c) => c.name === cred.name),
    codeNow,
    credentialCount: after.length,
    credential: cred,
  };
}

/** What `device info` shows: the key, and its credentials when it is open (or unlocked). */
export async function readOathInfo(
  driver: OathDriver,
  password: PasswordSource,
): Promise<OathDeviceInfo & { credentials: ListedCredential[] }> {
  const info = await driver.open(password);
  return { ...info, credentials: await driver.list() };
}

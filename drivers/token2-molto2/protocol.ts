/**
 * Token2 Molto2 / Molto2v2 (USB CCID, 50 / 100 TOTP profiles): every command
 * and answer as bytes, no I/O. Read it next to docs/protocols/token2-molto2.md
 * (the byte tables cited here).
 * The crypto is the Token2 one (SM4, the same MAC rule) under a key derived
 * from the customer key instead of the fixed NFC device key.
 */
import { fromHex, toHex, utf8Decode, utf8Encode } from '../../src/core/bytes.js';
import { sha1 } from '../../src/core/sha1.js';
import { Sm4, padMethod2 } from '../../src/core/sm4.js';
import { isoStatusText } from '../../src/transport/iso7816.js';
import {
  CLA_PLAIN,
  CLA_SECURE,
  apdu,
  authData,
  secureCommand,
  secureMac,
  parseInfo as parseToken2Info,
  splitResponse,
  swHex,
  ProtocolError,
  DISPLAY_TIMEOUTS,
  algorithmCode,
  algorithmOf,
  periodCode,
  periodOf,
  displayTimeoutCode,
  displayTimeoutSeconds as displayTimeoutOf,
  type Response,
  type DisplayTimeoutSeconds,
  type Token2Algorithm as Molto2Algorithm,
} from '../token2-shared/protocol.js';

export { CLA_PLAIN, CLA_SECURE, authData, secureMac, splitResponse, swHex, ProtocolError, type Response };
export const INS = {
  info: 0x41,
  challenge: 0x4b,
  authenticate: 0xce,
  factoryReset: 0x56,
  deleteSeed: 0xe6,
  screen: 0xd8,
  writeSeed: 0xc5,
  writeTitle: 0xd5,
  writeConfig: 0xd4,
  changeKey: 0xd7,
} as const;

export const SW = {
  ok: 0x9000,
  /** Accepted; the device waits for the ▲ button (factory reset, customer key change). */
  waitButton: 0x9060,
  /** The profile holds no seed (delete seed on an empty slot). */
  emptySlot: 0x6a83,
  /** P1/P2 out of range: a profile the model does not have. */
  badProfile: 0x6a86,
  wrongLength: 0x6700,
  badData: 0x6a80,
  notAuthenticated: 0x6982,
  /** No tries left: the customer key is blocked. */
  authBlocked: 0x6983,
  badMac: 0x6988,
  unknownIns: 0x6d00,
  unknownCla: 0x6e00,
} as const;

/** `--profile` runs from 0; the Molto2 has 50 profiles, the Molto2v2 100 (vendor tool help). */
export const PROFILE_COUNTS = { molto2: 50, molto2v2: 100 } as const;
export type Molto2Variant = keyof typeof PROFILE_COUNTS;

export const MAX_SEED_BYTES = 63;
export const MAX_TITLE_BYTES = 12;

/** The factory customer key, ASCII `TOKEN2MOLTO1-KEY`. */
export const FACTORY_CUSTOMER_KEY = utf8Encode('TOKEN2MOLTO1-KEY');

/** SM4 key = first 16 bytes of SHA-1(customer key). */
export function deriveSm4Key(customerKey: Uint8Array): Uint8Array {
  return sha1(customerKey).slice(0, 16);
}

/** `--customer-key`: 32 hex digits are taken as 16 raw bytes, anything else as its ASCII/UTF-8 bytes (as the vendor tool's --key/--keyascii). */
export function parseCustomerKey(input: string): Uint8Array {
  const s = input.trim();
  if (/^[0-9a-fA-F]{32}$/.test(s)) return fromHex(s);
  if (s.length === 0) throw new RangeError('the customer key is empty');
  return utf8Encode(s);
}

// ---- config field codes: the same codes as the Token2 NFC config, so the same functions ----

export { DISPLAY_TIMEOUTS, algorithmCode, algorithmOf, periodCode, periodOf, displayTimeoutCode, displayTimeoutOf };
export type { DisplayTimeoutSeconds, Molto2Algorithm };
export const DIGITS = [4, 6, 8, 10] as const;
export type Molto2Digits = (typeof DIGITS)[number];

/** Digits travel as their value: 04, 06, 08, 0A. */
export function digitsCode(d: number): number {
  if (!(DIGITS as readonly number[]).includes(d)) throw new RangeError(`digits must be 4, 6, 8 or 10, got ${d}`);
  return d;
}
export function isDigits(d: number): d is Molto2Digits {
  return (DIGITS as readonly number[]).includes(d);
}

// ---- status words ------------------------------------------------------------

export function statusWordMeaning(sw: number): string {
  switch (sw) {
    case SW.ok:
      return 'success';
    case SW.waitButton:
      return 'accepted, waiting for the ▲ button on the device';
    case SW.emptySlot:
      return 'the profile is empty (no seed)';
    case SW.badProfile:
      return 'no such profile on this model';
    case SW.wrongLength:
      return 'wrong length';
    case SW.badData:
      return 'bad data in the command';
    case SW.notAuthenticated:
      return 'authenticate first';
    case SW.authBlocked:
      return 'the customer key is blocked: no tries left';
    case SW.badMac:
      return 'the MAC of the secure command is wrong (another customer key?)';
    case SW.unknownIns:
      return 'instruction not supported (older firmware?)';
    case SW.unknownCla:
      return 'class not supported';
  }
  if (sw >> 8 === 0x63) return `authentication failed, ${sw & 0xff} tries left`;
  return isoStatusText(sw) ?? 'unknown status word';
}

/** `63 NN`: NN tries left; null for any other status word. */
export function triesLeft(sw: number): number | null {
  return sw >> 8 === 0x63 ? sw & 0xff : null;
}

// ---- framing ---------------------------------------------------------------------

function checkProfile(p: number): number {
  if (!Number.isInteger(p) || p < 0 || p > 99) throw new RangeError(`profile must be 0 to 99, got ${p}`);
  return p;
}

// The MAC rule and the secure-command framing are the NFC tokens' (token2-shared), under the customer-key SM4 key.

// ---- host side -------------------------------------------------------------------

export function buildGetInfo(): Uint8Array {
  return apdu(CLA_PLAIN, INS.info, 0x00, 0x00, undefined, 0x00);
}

export interface Molto2Info {
  serial: string;
  deviceTime: number;
}

/** Same layout as the Token2 NFC info: 3 bytes, N, serial, 2 bytes, u32 UTC seconds. */
export function parseInfo(data: Uint8Array): Molto2Info {
  return parseToken2Info(data);
}

export function buildReadProfile(profile: number): Uint8Array {
  return apdu(CLA_PLAIN, INS.info, 0x00, checkProfile(profile), Uint8Array.from([0x70]));
}

export interface ProfileBlock {
  flag: number;
  /** The title (the vendor calls it "tips"), trailing zeros and padding removed. */
  title: string;
  /** The profile's clock, UTC seconds. */
  rtcTime: number;
  /** When its clock was last set, UTC seconds. */
  timeConfigured: number;
  algorithmCode: number;
  periodCode: number;
  digits: number;
  seedPresent: boolean;
}

export const PROFILE_VALUE_LENGTH = 29;

/** `95 1F 70 1D` + flag, 16-byte title, RTC time, time configured, algorithm, step, digits, seed present. */
export function parseProfileBlock(data: Uint8Array): ProfileBlock {
  if (data.length < 4 || data[0] !== 0x95 || data[2] !== 0x70)
    throw new ProtocolError(`public block does not start 95 .. 70 ..: ${toHex(data.subarray(0, 4))}`);
  const v = data.subarray(4, 4 + data[3]!);
  if (v.length < PROFILE_VALUE_LENGTH)
    throw new ProtocolError(`public block value has ${v.length} bytes, expected ${PROFILE_VALUE_LENGTH}`);
  const u32 = (o: number) => ((v[o]! << 24) | (v[o + 1]! << 16) | (v[o + 2]! << 8) | v[o + 3]!) >>> 0;
  const titleBytes = v.subarray(1, 17);
  let end = titleBytes.length;
  while (end > 0 && (titleBytes[end - 1] === 0x00 || titleBytes[end - 1] === 0xff)) end--;
  return {
    flag: v[0]!,
    title: utf8Decode(titleBytes.subarray(0, end)),
    rtcTime: u32(17),
    timeConfigured: u32(21),
    algorithmCode: v[25]!,
    periodCode: v[26]!,
    digits: v[27]!,
    seedPresent: v[28] === 0x01,
  };
}

export function encodeProfileBlock(b: ProfileBlock): Uint8Array {
  const title = new Uint8Array(16);
  title.set(utf8Encode(b.title).subarray(0, 16));
  const u32 = (t: number) => [(t >>> 24) & 0xff, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff];
  return Uint8Array.from([
    0x95,
    0x1f,
    0x70,
    0x1d,
    b.flag,
    ...title,
    ...u32(b.rtcTime >>> 0),
    ...u32(b.timeConfigured >>> 0),
    b.algorithmCode,
    b.periodCode,
    b.digits,
    b.seedPresent ? 1 : 0,
  ]);
}

/** `80 4B 08 00 00` (the vendor tool's form). */
export function buildGetChallenge(): Uint8Array {
  return apdu(CLA_PLAIN, INS.challenge, 0x08, 0x00, undefined, 0x00);
}

export function buildAuthenticate(cipher: Sm4, challenge: Uint8Array): Uint8Array {
  return apdu(CLA_PLAIN, INS.authenticate, 0x00, 0x00, authData(cipher, challenge));
}

/** An all-zero seed clears a profile and is zero-padded; any other seed takes the 80 marker. */
export function padSeed(seed: Uint8Array): Uint8Array {
  if (seed.length < 1 || seed.length > MAX_SEED_BYTES)
    throw new RangeError(`Molto2 profiles take seeds of 1 to ${MAX_SEED_BYTES} bytes, got ${seed.length}`);
  if (seed.every((b) => b === 0)) return new Uint8Array(Math.ceil(seed.length / 16) * 16 || 16);
  return padMethod2(seed);
}

export function buildWriteSeed(cipher: Sm4, profile: number, seed: Uint8Array): Uint8Array {
  const plain = padSeed(seed);
  const body = cipher.encryptEcb(plain);
  plain.fill(0);
  return secureCommand(cipher, INS.writeSeed, 0x01, checkProfile(profile), body);
}

export function titleBytes(title: string): Uint8Array {
  const b = utf8Encode(title);
  if (b.length < 1 || b.length > MAX_TITLE_BYTES)
    throw new RangeError(`a profile title is 1 to ${MAX_TITLE_BYTES} bytes (UTF-8), '${title}' is ${b.length}`);
  return Uint8Array.from(b);
}

export function buildWriteTitle(cipher: Sm4, profile: number, title: string): Uint8Array {
  return secureCommand(
    cipher,
    INS.writeTitle,
    0x00,
    checkProfile(profile),
    cipher.encryptEcb(padMethod2(titleBytes(title))),
  );
}

export interface Molto2Config {
  displayTimeout: DisplayTimeoutSeconds;
  time: number;
  algorithm: Molto2Algorithm;
  digits: Molto2Digits;
  period: 30 | 60;
}

const u32be = (t: number) => [t >>> 24, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff];

/** `81 14 1F 01 dd 0F 04 t*4 86 09 0A 01 aa 0B 01 nn 0D 01 ss` */
export function configBody(c: Molto2Config): Uint8Array {
  const t = c.time >>> 0;
  if (t !== c.time) throw new RangeError(`clock value ${c.time} does not fit 32 bits`);
  return Uint8Array.from([
    0x81,
    0x14,
    0x1f,
    0x01,
    displayTimeoutCode(c.displayTimeout),
    0x0f,
    0x04,
    ...u32be(t),
    0x86,
    0x09,
    0x0a,
    0x01,
    algorithmCode(c.algorithm),
    0x0b,
    0x01,
    digitsCode(c.digits),
    0x0d,
    0x01,
    periodCode(c.period),
  ]);
}

/** `81 06 0F 04 t*4`: the clock only. */
export function syncBody(time: number): Uint8Array {
  const t = time >>> 0;
  if (t !== time) throw new RangeError(`clock value ${time} does not fit 32 bits`);
  return Uint8Array.from([0x81, 0x06, 0x0f, 0x04, ...u32be(t)]);
}

export function buildWriteConfig(cipher: Sm4, profile: number, c: Molto2Config): Uint8Array {
  return secureCommand(cipher, INS.writeConfig, 0x01, checkProfile(profile), configBody(c));
}

export function buildSyncTime(cipher: Sm4, profile: number, time: number): Uint8Array {
  return secureCommand(cipher, INS.writeConfig, 0x01, checkProfile(profile), syncBody(time));
}

/** `80 E6 00 pp 00` on an authenticated session (the vendor's PROTOCOL.md writes 84; its tool sends 80). */
export function buildDeleteSeed(profile: number): Uint8Array {
  return apdu(CLA_PLAIN, INS.deleteSeed, 0x00, checkProfile(profile), undefined, 0x00);
}

export function buildLockScreen(): Uint8Array {
  return apdu(CLA_PLAIN, INS.screen, 0x0c, 0x02, undefined, 0x00);
}

export function buildUnlockScreen(): Uint8Array {
  return apdu(CLA_PLAIN, INS.screen, 0x0c, 0x02, Uint8Array.from([0x01]));
}

export function buildFactoryReset(): Uint8Array {
  return apdu(CLA_PLAIN, INS.factoryReset, 0x00, 0x00, undefined, 0x00);
}

/** `84 D7 00 00` with SM4-ECB(00 || SHA-1(new key)[..16] || 80 00..) under the current key. */
export function buildChangeCustomerKey(cipher: Sm4, newCustomerKey: Uint8Array): Uint8Array {
  const plain = new Uint8Array(32);
  plain.set(deriveSm4Key(newCustomerKey), 1);
  plain[17] = 0x80;
  const body = cipher.encryptEcb(plain);
  plain.fill(0);
  return secureCommand(cipher, INS.changeKey, 0x00, 0x00, body);
}

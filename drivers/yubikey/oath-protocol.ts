/**
 * The YubiKey OATH application (YKOATH): bytes in, bytes out, no I/O. The
 * tables are in docs/protocols/yubikey.md; every command is an ISO 7816 short
 * APDU with class 00 whose data is a list of TLVs.
 */
import { utf8Decode, utf8Encode } from '../../src/core/bytes.js';
import { hmacSha1, pbkdf2HmacSha1, sha1 } from '../../src/core/sha1.js';
import { sha256, sha512 } from '../../src/core/sha2.js';

export { hmacSha1 };

/** SELECT this to talk to the OATH application. */
export const OATH_AID = Uint8Array.from([0xa0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01]);

export const TAG = {
  name: 0x71,
  nameListEntry: 0x72,
  key: 0x73,
  challenge: 0x74,
  response: 0x75,
  truncated: 0x76,
  hotp: 0x77,
  property: 0x78,
  version: 0x79,
  imf: 0x7a,
  algorithm: 0x7b,
  touch: 0x7c,
} as const;

export const INS = {
  put: 0x01,
  delete: 0x02,
  setCode: 0x03,
  reset: 0x04,
  rename: 0x05,
  list: 0xa1,
  calculate: 0xa2,
  validate: 0xa3,
  /** Also SELECT's instruction: P1 04 is SELECT, P1 00 is CALCULATE ALL. */
  calculateAll: 0xa4,
  sendRemaining: 0xa5,
} as const;

export const SW = {
  ok: 0x9000,
  wrongLength: 0x6700,
  authRequired: 0x6982,
  wrongResponse: 0x6984,
  noRemaining: 0x6985,
  wrongData: 0x6a80,
  noSuchObject: 0x6a82,
  noSpace: 0x6a84,
  insNotSupported: 0x6d00,
} as const;

/** What the OATH application's status words mean (the ISO ones that differ here). */
export function oathStatusText(sw: number): string | null {
  const words: Record<number, string> = {
    [SW.authRequired]: 'the access password must be validated first',
    [SW.wrongResponse]: 'wrong access password (the response to the challenge does not match)',
    [SW.noRemaining]: 'no more data to send',
    [SW.wrongData]: 'wrong data in the command',
    [SW.noSuchObject]: 'no such credential (or application)',
    [SW.noSpace]: 'no space left for another credential',
  };
  return words[sw] ?? null;
}

export type OathType = 'hotp' | 'totp';
export type OathAlgorithm = 'sha1' | 'sha256' | 'sha512';
export const OATH_ALGORITHMS: readonly OathAlgorithm[] = ['sha1', 'sha256', 'sha512'];

const TYPE_CODE: Record<OathType, number> = { hotp: 0x10, totp: 0x20 };
const ALGORITHM_CODE: Record<OathAlgorithm, number> = { sha1: 0x01, sha256: 0x02, sha512: 0x03 };
/** The one property bit ykman writes: a code needs a touch of the key. */
export const PROPERTY_REQUIRE_TOUCH = 0x02;
/** Credential names longer than this are refused by the key. */
export const MAX_NAME_BYTES = 64;
export const DEFAULT_PERIOD = 30;

/** The type|algorithm byte of PUT and LIST. */
export function typeAlgorithmByte(type: OathType, algorithm: OathAlgorithm): number {
  return TYPE_CODE[type] | ALGORITHM_CODE[algorithm];
}

export function parseTypeAlgorithm(b: number): { type: OathType; algorithm: OathAlgorithm } | null {
  const type = (Object.keys(TYPE_CODE) as OathType[]).find((t) => TYPE_CODE[t] === (b & 0xf0));
  const algorithm = OATH_ALGORITHMS.find((a) => ALGORITHM_CODE[a] === (b & 0x0f));
  return type && algorithm ? { type, algorithm } : null;
}

export interface Tlv {
  tag: number;
  value: Uint8Array;
}

/** One TLV with a BER length (one byte below 0x80, then 81 xx, then 82 xx xx). */
export function encodeTlv(tag: number, value: Uint8Array = new Uint8Array()): Uint8Array {
  const n = value.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([tag, ...len, ...value]);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Splits TLVs; tags in `bare` carry one value byte and no length (the PUT property tag). */
export function parseTlvs(data: Uint8Array, bare: readonly number[] = []): Tlv[] {
  const out: Tlv[] = [];
  let i = 0;
  while (i < data.length) {
    const tag = data[i++]!;
    if (bare.includes(tag)) {
      if (i >= data.length) throw new Error(`tag ${tag.toString(16)} has no value byte`);
      out.push({ tag, value: data.subarray(i, ++i) });
      continue;
    }
    let len = data[i++];
    if (len === undefined) throw new Error(`tag ${tag.toString(16)} has no length`);
    if (len === 0x81) len = data[i++]!;
    else if (len === 0x82) len = (data[i++]! << 8) | data[i++]!;
    if (i + len > data.length)
      throw new Error(`tag ${tag.toString(16)} says ${len} bytes, ${data.length - i} are left`);
    out.push({ tag, value: data.subarray(i, i + len) });
    i += len;
  }
  return out;
}

function apdu(ins: number, p1: number, p2: number, data?: Uint8Array): Uint8Array {
  return data && data.length > 0
    ? Uint8Array.from([0x00, ins, p1, p2, data.length, ...data])
    : Uint8Array.from([0x00, ins, p1, p2]);
}

export const selectOathApdu = (): Uint8Array => Uint8Array.from([0x00, 0xa4, 0x04, 0x00, OATH_AID.length, ...OATH_AID]);
export const listApdu = (): Uint8Array => apdu(INS.list, 0, 0);
export const resetApdu = (): Uint8Array => apdu(INS.reset, 0xde, 0xad);
export const sendRemainingApdu = (): Uint8Array => apdu(INS.sendRemaining, 0, 0);
export const deleteApdu = (name: string): Uint8Array => apdu(INS.delete, 0, 0, encodeTlv(TAG.name, nameBytes(name)));

export function nameBytes(name: string): Uint8Array {
  const b = utf8Encode(name);
  if (b.length < 1 || b.length > MAX_NAME_BYTES)
    throw new RangeError(`a credential name is 1 to ${MAX_NAME_BYTES} bytes (UTF-8); '${name}' is ${b.length}`);
  return b;
}

export interface CredentialToWrite {
  name: string;
  type: OathType;
  algorithm: OathAlgorithm;
  digits: number;
  secret: Uint8Array;
  touch?: boolean;
  /** HOTP: the first counter value (the IMF). */
  counter?: number;
}

/** The hash block size: a longer secret is hashed first, as HMAC would do with it. */
const BLOCK_BYTES: Record<OathAlgorithm, number> = { sha1: 64, sha256: 64, sha512: 128 };
const HASHES: Record<OathAlgorithm, (data: Uint8Array) => Uint8Array> = { sha1, sha256, sha512 };
/** Secrets shorter than this are zero-padded (the key refuses very short keys; HMAC pads with zeros anyway). */
const MIN_SECRET_BYTES = 14;

/** The key bytes PUT carries for a secret: same HMAC, a length the key takes. */
export function keyBytesForSecret(secret: Uint8Array, algorithm: OathAlgorithm): Uint8Array {
  let key: Uint8Array = secret.length > BLOCK_BYTES[algorithm] ? HASHES[algorithm](secret) : Uint8Array.from(secret);
  if (key.length < MIN_SECRET_BYTES) key = concatBytes(key, new Uint8Array(MIN_SECRET_BYTES - key.length));
  return key;
}

/** PUT: 71 name, 73 [type|alg, digits, key...], then 78 02 (touch, no length byte), then 7A IMF (HOTP). */
export function putApdu(c: CredentialToWrite): Uint8Array {
  const key = keyBytesForSecret(c.secret, c.algorithm);
  const parts = [
    encodeTlv(TAG.name, nameBytes(c.name)),
    encodeTlv(TAG.key, Uint8Array.from([typeAlgorithmByte(c.type, c.algorithm), c.digits, ...key])),
  ];
  if (c.touch) parts.push(Uint8Array.from([TAG.property, PROPERTY_REQUIRE_TOUCH]));
  if (c.type === 'hotp' && c.counter) parts.push(encodeTlv(TAG.imf, uint32(c.counter)));
  return apdu(INS.put, 0, 0, concatBytes(...parts));
}

export function uint32(n: number): Uint8Array {
  return Uint8Array.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** The 8-byte big-endian TOTP step (or HOTP counter) a CALCULATE carries. */
export function timeStepChallenge(unixSeconds: number, period: number): Uint8Array {
  const step = BigInt(Math.floor(unixSeconds / period));
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, step);
  return b;
}

/** CALCULATE one credential; P2 01 asks for the truncated answer (digits byte + 4 bytes). */
export function calculateApdu(name: string, challenge: Uint8Array, truncate = true): Uint8Array {
  return apdu(
    INS.calculate,
    0,
    truncate ? 1 : 0,
    concatBytes(encodeTlv(TAG.name, nameBytes(name)), encodeTlv(TAG.challenge, challenge)),
  );
}

export function calculateAllApdu(challenge: Uint8Array, truncate = true): Uint8Array {
  return apdu(INS.calculateAll, 0, truncate ? 1 : 0, encodeTlv(TAG.challenge, challenge));
}

export function validateApdu(response: Uint8Array, hostChallenge: Uint8Array): Uint8Array {
  return apdu(
    INS.validate,
    0,
    0,
    concatBytes(encodeTlv(TAG.response, response), encodeTlv(TAG.challenge, hostChallenge)),
  );
}

/** SET CODE: 73 [type|alg, key], 74 challenge, 75 HMAC(key, challenge); a key of null clears the password (73 00). */
export function setCodeApdu(key: Uint8Array | null, challenge?: Uint8Array): Uint8Array {
  if (!key) return apdu(INS.setCode, 0, 0, encodeTlv(TAG.key));
  const ch = challenge!;
  return apdu(
    INS.setCode,
    0,
    0,
    concatBytes(
      encodeTlv(TAG.key, Uint8Array.from([typeAlgorithmByte('totp', 'sha1'), ...key])),
      encodeTlv(TAG.challenge, ch),
      encodeTlv(TAG.response, hmacSha1(key, ch)),
    ),
  );
}

/** The access key: PBKDF2-HMAC-SHA1(password, salt, 1000 rounds, 16 bytes). */
export function deriveAccessKey(password: string, salt: Uint8Array): Uint8Array {
  return pbkdf2HmacSha1(utf8Encode(password), salt, 1000, 16);
}

export interface SelectInfo {
  /** "5.4.3" */
  version: string;
  /** The salt of the access key, also the device's identity (changes on RESET). */
  salt: Uint8Array;
  /** Present when an access password is set: VALIDATE must answer it. */
  challenge: Uint8Array | null;
}

export function parseSelect(data: Uint8Array): SelectInfo {
  const t = parseTlvs(data);
  const get = (tag: number) => t.find((x) => x.tag === tag)?.value;
  const version = get(TAG.version);
  const salt = get(TAG.name);
  if (!version || version.length !== 3 || !salt) throw new Error('the SELECT answer has no version (79) or salt (71)');
  return {
    version: [...version].join('.'),
    salt: Uint8Array.from(salt),
    challenge: get(TAG.challenge) ? Uint8Array.from(get(TAG.challenge)!) : null,
  };
}

export interface ListedCredential {
  name: string;
  type: OathType;
  algorithm: OathAlgorithm;
}

/** LIST: 72 [type|alg, name...] for every credential. */
export function parseList(data: Uint8Array): ListedCredential[] {
  return parseTlvs(data)
    .filter((x) => x.tag === TAG.nameListEntry)
    .map((x) => {
      const ta = parseTypeAlgorithm(x.value[0] ?? 0);
      if (!ta) throw new Error(`LIST entry with an unknown type/algorithm byte ${(x.value[0] ?? 0).toString(16)}`);
      return { name: utf8Decode(x.value.subarray(1)), ...ta };
    });
}

/** A truncated answer (digits byte + 4 bytes) as the code a person types. */
export function formatTruncated(value: Uint8Array): string {
  const digits = value[0]!;
  const n = new DataView(value.buffer, value.byteOffset + 1, 4).getUint32(0) & 0x7fffffff;
  return String(n % 10 ** digits).padStart(digits, '0');
}

/** The 4 bytes RFC 4226 dynamic truncation picks out of an HMAC. */
export function dynamicTruncation(mac: Uint8Array): Uint8Array {
  const offset = mac[mac.length - 1]! & 0x0f;
  return Uint8Array.from([mac[offset]! & 0x7f, mac[offset + 1]!, mac[offset + 2]!, mac[offset + 3]!]);
}

export interface CalculatedEntry {
  name: string;
  /** code: a truncated answer; hotp: HOTP, no code computed; touch: needs a touch first; full: an untruncated HMAC. */
  kind: 'code' | 'hotp' | 'touch' | 'full';
  digits: number;
  code: string | null;
}

/** CALCULATE ALL: pairs of 71 name and one of 76 / 75 / 77 / 7C. */
export function parseCalculateAll(data: Uint8Array): CalculatedEntry[] {
  const t = parseTlvs(data);
  const out: CalculatedEntry[] = [];
  for (let i = 0; i + 1 < t.length; i += 2) {
    const name = t[i]!;
    const answer = t[i + 1]!;
    if (name.tag !== TAG.name)
      throw new Error(`CALCULATE ALL: expected a name (71) at entry ${i / 2 + 1}, found ${name.tag.toString(16)}`);
    const kind =
      answer.tag === TAG.truncated
        ? 'code'
        : answer.tag === TAG.hotp
          ? 'hotp'
          : answer.tag === TAG.touch
            ? 'touch'
            : 'full';
    out.push({
      name: utf8Decode(name.value),
      kind,
      digits: answer.value[0] ?? 0,
      code: kind === 'code' ? formatTruncated(answer.value) : null,
    });
  }
  return out;
}

export interface CredentialName {
  issuer: string | null;
  account: string;
  period: number;
}

/** The name a credential is stored under: "[period/][issuer:]account" (the period only for TOTP other than 30 s). */
export function formatCredentialName(n: {
  issuer?: string | null;
  account: string;
  period?: number;
  type: OathType;
}): string {
  const period = n.type === 'totp' && n.period && n.period !== DEFAULT_PERIOD ? `${n.period}/` : '';
  return `${period}${n.issuer ? `${n.issuer}:` : ''}${n.account}`;
}

export function parseCredentialName(name: string, type: OathType): CredentialName {
  const m = type === 'totp' ? /^(?:(\d+)\/)?(?:([^:]+):)?(.+)$/s.exec(name) : /^(?:([^:]+):)?(.+)$/s.exec(name);
  if (!m) return { issuer: null, account: name, period: DEFAULT_PERIOD };
  if (type === 'totp') return { period: m[1] ? Number(m[1]) : DEFAULT_PERIOD, issuer: m[2] ?? null, account: m[3]! };
  return { period: DEFAULT_PERIOD, issuer: m[1] ?? null, account: m[2]! };
}

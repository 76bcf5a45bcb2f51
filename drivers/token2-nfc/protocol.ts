/**
 * Token2 single-profile NFC tokens (OTPC-P1/P2-i cards, miniOTP-2/3-i, C301-i,
 * C302-i fobs): every command and answer as bytes, no I/O. Read it next to
 * docs/protocols/token2-nfc.md (the byte tables cited here).
 */
import { Sm4, padMethod2 } from '../../src/core/sm4.js';
import { isoStatusText } from '../../src/transport/iso7816.js';
import {
  CLA_PLAIN,
  CLA_SECURE,
  ProtocolError,
  apdu,
  parseCommand as parseToken2Command,
  algorithmCode,
  authData as sharedAuthData,
  displayTimeoutCode,
  periodCode,
  secureCommand as sharedSecureCommand,
  secureMac as sharedSecureMac,
  type DisplayTimeoutSeconds,
  type ParsedCommand,
  type Token2Algorithm,
  type Token2Period,
} from '../token2-shared/protocol.js';

// What the NFC tokens share with the Molto2 (codes, framing, MAC rule, info layout) lives in token2-shared; re-exported for this family's users.
export {
  CLA_PLAIN,
  CLA_SECURE,
  DISPLAY_TIMEOUTS,
  ProtocolError,
  algorithmCode,
  algorithmOf,
  displayTimeoutCode,
  displayTimeoutSeconds,
  parseInfo,
  periodCode,
  periodOf,
  splitResponse,
  swHex,
  type DisplayTimeoutSeconds,
  type ParsedCommand,
  type Response,
  type Token2Algorithm,
  type Token2Info,
  type Token2Period,
} from '../token2-shared/protocol.js';

/** The fixed device key; public, identical on every token of the family. */
export const DEVICE_KEY = Uint8Array.from([
  0x8a, 0xd2, 0x06, 0x88, 0x3c, 0xa3, 0x69, 0x48, 0x2a, 0xb2, 0x71, 0x82, 0xb6, 0xe8, 0x32, 0x24,
]);
const deviceCipher = new Sm4(DEVICE_KEY);

export const INS = { info: 0x41, challenge: 0x4b, authenticate: 0xce, writeSeed: 0xc5, writeConfig: 0xd4 } as const;
export type CommandName = keyof typeof INS;

export const SW = {
  ok: 0x9000,
  authFailed: 0x6983,
  wrongLength: 0x6700,
  badData: 0x6a80,
  unknownIns: 0x6d00,
  unknownCla: 0x6e00,
} as const;

/** Seeds the token takes, after the host pads short ones to 20 bytes. */
export const MIN_SEED_BYTES = 1;
export const MAX_SEED_BYTES = 63;
/** HMAC pads short keys with zeros anyway, so codes do not change. */
export const SHORT_SEED_PAD_TO = 20;

// ---- models ---------------------------------------------------------------

export const TOKEN2_MODELS = ['token2-card', 'token2-fob', 'token2-fob-c302'] as const;
export type Token2Model = (typeof TOKEN2_MODELS)[number];

export interface Token2Product {
  prefix: string;
  product: string;
  model: Token2Model;
}

/** Serial prefix -> product (keyroost docs/PROTOCOL.md). */
export const TOKEN2_PRODUCTS: readonly Token2Product[] = [
  { prefix: '8659612', product: 'OTPC-P1-i', model: 'token2-card' },
  { prefix: '8659622', product: 'OTPC-P2-i', model: 'token2-card' },
  { prefix: '8659621', product: 'OTPC-P2-i-NB', model: 'token2-card' },
  { prefix: '8659600', product: 'miniOTP-2-i', model: 'token2-fob' },
  { prefix: '8659601', product: 'miniOTP-3-i', model: 'token2-fob' },
  { prefix: '8659609', product: 'miniOTP-3-i-NB', model: 'token2-fob' },
  { prefix: '8659610', product: 'C301-i', model: 'token2-fob' },
  { prefix: '8659632', product: 'C302-i', model: 'token2-fob-c302' },
];

export function productForSerial(serial: string): Token2Product | null {
  const s = serial.trim();
  let best: Token2Product | null = null;
  for (const p of TOKEN2_PRODUCTS)
    if (s.startsWith(p.prefix) && (!best || p.prefix.length > best.prefix.length)) best = p;
  return best;
}

/** On restricted-sync models a config write wipes the seed; only the C302-i keeps it. */
export function wipesSeedOnConfig(model: Token2Model): boolean {
  return model !== 'token2-fob-c302';
}

export function isToken2Model(s: string): s is Token2Model {
  return (TOKEN2_MODELS as readonly string[]).includes(s);
}

// ---- APDU framing -----------------------------------------------------------

/** A status word in words, as the firmware uses it. */
export function statusWordMeaning(sw: number): string {
  switch (sw) {
    case SW.ok:
      return 'success';
    case SW.authFailed:
      return 'authentication failed, or the MAC of a secure command was wrong, or the command needs authentication first';
    case SW.wrongLength:
      return 'wrong length';
    case SW.badData:
      return 'bad data in the command';
    case SW.unknownIns:
      return 'instruction not supported';
    case SW.unknownCla:
      return 'class not supported';
  }
  // 61xx, 6Cxx, 63Cx and the rest of ISO 7816-4: the one layer's words.
  return isoStatusText(sw) ?? 'unknown status word';
}

// ---- the MAC of secure commands --------------------------------------------

/** MAC over `80 INS P1 P2 Lc' || body` under the device key (docs/protocols/token2-nfc.md, "secure commands"). */
export function secureMac(ins: number, p1: number, p2: number, body: Uint8Array): Uint8Array {
  return sharedSecureMac(deviceCipher, ins, p1, p2, body);
}

const secureCommand = (ins: number, p1: number, p2: number, body: Uint8Array) =>
  sharedSecureCommand(deviceCipher, ins, p1, p2, body);

// ---- host side: build commands, parse answers --------------------------------

export function buildGetInfo(): Uint8Array {
  return apdu(CLA_PLAIN, INS.info, 0x00, 0x00, Uint8Array.from([0x02, 0x11]));
}

/**
 * Two forms are in use: `80 4B 08 00 01 00` (the vendor tool, keyroost: `lc`)
 * and `80 4B 08 00 00` (totptokutil: `le`). The driver sends the first and
 * falls back to the second only when a token refuses its length.
 */
export type ChallengeForm = 'lc' | 'le';
export function buildGetChallenge(form: ChallengeForm = 'lc'): Uint8Array {
  return form === 'lc'
    ? apdu(CLA_PLAIN, INS.challenge, 0x08, 0x00, Uint8Array.from([0x00]))
    : Uint8Array.from([CLA_PLAIN, INS.challenge, 0x08, 0x00, 0x00]);
}

export function parseChallenge(data: Uint8Array): Uint8Array {
  if (data.length !== 8) throw new ProtocolError(`challenge answer has ${data.length} bytes, expected 8`);
  return Uint8Array.from(data);
}

export function authData(challenge: Uint8Array): Uint8Array {
  return sharedAuthData(deviceCipher, challenge);
}

export function buildAuthenticate(challenge: Uint8Array): Uint8Array {
  return apdu(CLA_PLAIN, INS.authenticate, 0x00, 0x00, authData(challenge));
}

/** Seeds shorter than 20 bytes are zero-padded to 20, as hosts do. */
export function seedForDevice(seed: Uint8Array): Uint8Array {
  if (seed.length < MIN_SEED_BYTES || seed.length > MAX_SEED_BYTES) {
    throw new RangeError(
      `Token2 tokens take seeds of ${MIN_SEED_BYTES} to ${MAX_SEED_BYTES} bytes, got ${seed.length}`,
    );
  }
  if (seed.length >= SHORT_SEED_PAD_TO) return Uint8Array.from(seed);
  const out = new Uint8Array(SHORT_SEED_PAD_TO);
  out.set(seed);
  return out;
}

/** `84 C5 01 00 Lc || SM4-ECB(seed || 80 00..) || MAC`; the marker is always added (firmware rule). */
export function buildWriteSeed(seed: Uint8Array): Uint8Array {
  const plain = padMethod2(seedForDevice(seed));
  const body = deviceCipher.encryptEcb(plain);
  plain.fill(0);
  return secureCommand(INS.writeSeed, 0x01, 0x00, body);
}

export interface Token2Config {
  displayTimeout: DisplayTimeoutSeconds;
  /** UTC seconds to set the clock to. */
  time: number;
  algorithm: Token2Algorithm;
  period: Token2Period;
}

export const CONFIG_BODY_LENGTH = 19;

export function configBody(cfg: Token2Config): Uint8Array {
  const t = cfg.time >>> 0;
  if (t !== cfg.time) throw new RangeError(`clock value ${cfg.time} does not fit 32 bits`);
  return Uint8Array.from([
    0x81,
    0x11,
    0x1f,
    0x01,
    displayTimeoutCode(cfg.displayTimeout),
    0x0f,
    0x04,
    t >>> 24,
    (t >>> 16) & 0xff,
    (t >>> 8) & 0xff,
    t & 0xff,
    0x86,
    0x06,
    0x0a,
    0x01,
    algorithmCode(cfg.algorithm),
    0x0d,
    0x01,
    periodCode(cfg.period),
  ]);
}

export function buildWriteConfig(cfg: Token2Config): Uint8Array {
  return secureCommand(INS.writeConfig, 0x00, 0x00, configBody(cfg));
}

// ---- device side (simulator) and transcripts: take commands apart ------------

/** Takes a command apart, checking a secure command's MAC under the device key. */
export function parseCommand(a: Uint8Array): ParsedCommand {
  return parseToken2Command(a, deviceCipher);
}

/** Decrypts a write-seed body and strips the ISO 9797-1 method 2 padding. */
export function openSeedBody(body: Uint8Array): Uint8Array | null {
  if (body.length === 0 || body.length % 16 !== 0 || body.length > 64) return null;
  const plain = deviceCipher.decryptEcb(body);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0x00) end--;
  if (end < 0 || plain[end] !== 0x80 || end > MAX_SEED_BYTES) {
    plain.fill(0);
    return null;
  }
  const seed = plain.slice(0, end);
  plain.fill(0);
  return seed;
}

export interface ConfigFields {
  displayTimeoutCode: number;
  time: number;
  algorithmCode: number;
  periodCode: number;
}

export function parseConfigBody(body: Uint8Array): ConfigFields | null {
  if (body.length !== CONFIG_BODY_LENGTH) return null;
  const fixed: [number, number][] = [
    [0, 0x81],
    [1, 0x11],
    [2, 0x1f],
    [3, 0x01],
    [5, 0x0f],
    [6, 0x04],
    [11, 0x86],
    [12, 0x06],
    [13, 0x0a],
    [14, 0x01],
    [16, 0x0d],
    [17, 0x01],
  ];
  if (fixed.some(([i, v]) => body[i] !== v)) return null;
  return {
    displayTimeoutCode: body[4]!,
    time: ((body[7]! << 24) | (body[8]! << 16) | (body[9]! << 8) | body[10]!) >>> 0,
    algorithmCode: body[15]!,
    periodCode: body[18]!,
  };
}

export function commandNameOf(cla: number, ins: number): CommandName | null {
  for (const [name, code] of Object.entries(INS) as [CommandName, number][]) {
    if (code === ins && (cla === CLA_PLAIN || cla === CLA_SECURE)) return name;
  }
  return null;
}

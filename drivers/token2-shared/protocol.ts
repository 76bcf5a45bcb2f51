/**
 * What the Token2 NFC tokens and the Token2 Molto2 share: APDU framing, the
 * config field codes, the MAC rule of secure commands and the authentication
 * block (both SM4, under a key each family supplies), and the info layout.
 * Facts: docs/protocols/token2-nfc.md and docs/protocols/token2-molto2.md.
 */
import { Sm4, padMethod2 } from '../../src/core/sm4.js';

export const CLA_PLAIN = 0x80;
export const CLA_SECURE = 0x84;

/** A malformed answer: the token said something the protocol does not allow. */
export class ProtocolError extends Error {}

// ---- config field codes (docs/protocols/token2-nfc.md, "config fields") ----

export const DISPLAY_TIMEOUTS = [15, 30, 60, 120] as const;
export type DisplayTimeoutSeconds = (typeof DISPLAY_TIMEOUTS)[number];
export type Token2Algorithm = 'sha1' | 'sha256';
export type Token2Period = 30 | 60;

export function displayTimeoutCode(seconds: number): number {
  const i = (DISPLAY_TIMEOUTS as readonly number[]).indexOf(seconds);
  if (i < 0) throw new RangeError(`display timeout must be 15, 30, 60 or 120 seconds, got ${seconds}`);
  return i;
}
export function displayTimeoutSeconds(code: number): DisplayTimeoutSeconds | null {
  return DISPLAY_TIMEOUTS[code] ?? null;
}
export function algorithmCode(a: Token2Algorithm): number {
  return a === 'sha1' ? 1 : 2;
}
export function algorithmOf(code: number): Token2Algorithm | null {
  return code === 1 ? 'sha1' : code === 2 ? 'sha256' : null;
}
export function periodCode(p: number): number {
  if (p === 30) return 0x1e;
  if (p === 60) return 0x3c;
  throw new RangeError(`time step must be 30 or 60 seconds, got ${p}`);
}
export function periodOf(code: number): Token2Period | null {
  return code === 0x1e ? 30 : code === 0x3c ? 60 : null;
}

// ---- APDU framing -----------------------------------------------------------

/** A short APDU: header, then Lc and body, or a bare Le. */
export function apdu(cla: number, ins: number, p1: number, p2: number, body?: Uint8Array, le?: number): Uint8Array {
  if (!body) return Uint8Array.from(le === undefined ? [cla, ins, p1, p2] : [cla, ins, p1, p2, le]);
  if (body.length > 255) throw new RangeError(`APDU body of ${body.length} bytes does not fit a short Lc`);
  const out = new Uint8Array(5 + body.length);
  out.set([cla, ins, p1, p2, body.length]);
  out.set(body, 5);
  return out;
}

export interface Response {
  data: Uint8Array;
  sw: number;
}

export function splitResponse(resp: Uint8Array): Response {
  if (resp.length < 2) throw new ProtocolError(`answer of ${resp.length} byte(s) has no status word`);
  return { data: resp.slice(0, resp.length - 2), sw: (resp[resp.length - 2]! << 8) | resp[resp.length - 1]! };
}

// Status words are printed the way the ISO 7816 layer prints them.
export { swHex } from '../../src/transport/iso7816.js';

// ---- secure commands and authentication ---------------------------------------

/**
 * Pads with 80 00.. only when the input is not already a block multiple: the
 * rule of this MAC (not method 2, which would always add a block).
 */
export function padIfNeeded(data: Uint8Array): Uint8Array {
  return data.length > 0 && data.length % 16 === 0 ? Uint8Array.from(data) : padMethod2(data);
}

/**
 * The secure commands' MAC: SM4-CBC with a zero IV over the input (padded only when it
 * is not a block multiple), keeping the first 4 bytes of the last block.
 */
export function sm4CbcMac(key: Uint8Array | Sm4, data: Uint8Array, macLength = 4): Uint8Array {
  const cipher = key instanceof Sm4 ? key : new Sm4(key);
  const enc = cipher.encryptCbc(padIfNeeded(data));
  return enc.slice(enc.length - 16, enc.length - 16 + macLength);
}

/** MAC over `80 INS P1 P2 Lc' || body` (class 80 even for an 84 command; Lc' without the MAC): SM4-CBC, zero IV, first 4 bytes of the last block. */
export function secureMac(cipher: Sm4, ins: number, p1: number, p2: number, body: Uint8Array): Uint8Array {
  const input = new Uint8Array(5 + body.length);
  input.set([CLA_PLAIN, ins, p1, p2, body.length]);
  input.set(body, 5);
  return sm4CbcMac(cipher, input);
}

/** `84 INS P1 P2 Lc || body || MAC`. */
export function secureCommand(cipher: Sm4, ins: number, p1: number, p2: number, body: Uint8Array): Uint8Array {
  const mac = secureMac(cipher, ins, p1, p2, body);
  const full = new Uint8Array(body.length + 4);
  full.set(body);
  full.set(mac, body.length);
  return apdu(CLA_SECURE, ins, p1, p2, full);
}

/** The authenticate body: SM4-ECB of challenge || 8 zero bytes. */
export function authData(cipher: Sm4, challenge: Uint8Array): Uint8Array {
  if (challenge.length !== 8) throw new RangeError(`challenge must be 8 bytes, got ${challenge.length}`);
  const block = new Uint8Array(16);
  block.set(challenge);
  return cipher.encryptBlock(block);
}

// ---- info and parsed commands ----------------------------------------------------

export interface Token2Info {
  serial: string;
  /** The token's clock, UTC seconds. */
  deviceTime: number;
}

/** 3 header bytes, N, N bytes of ASCII serial, 2 separator bytes, 4 bytes UTC seconds big-endian. */
export function parseInfo(data: Uint8Array): Token2Info {
  if (data.length < 4)
    throw new ProtocolError(`info answer of ${data.length} bytes is too short (needs at least 4 before the serial)`);
  const n = data[3]!;
  const timeAt = 4 + n + 2;
  if (data.length < timeAt + 4)
    throw new ProtocolError(`info answer of ${data.length} bytes is too short for a ${n}-character serial`);
  const serialBytes = data.subarray(4, 4 + n);
  for (const b of serialBytes)
    if (b < 0x20 || b > 0x7e) throw new ProtocolError('info answer: the serial is not printable ASCII');
  const serial = String.fromCharCode(...serialBytes).trim();
  const deviceTime =
    ((data[timeAt]! << 24) | (data[timeAt + 1]! << 16) | (data[timeAt + 2]! << 8) | data[timeAt + 3]!) >>> 0;
  return { serial, deviceTime };
}

export interface ParsedCommand {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Lc data; for secure commands without the trailing MAC. */
  body: Uint8Array;
  mac?: Uint8Array;
  /** Secure commands: whether the MAC is right. */
  macOk?: boolean;
  /** A malformed frame: why. */
  error?: { sw: number; why: string };
}

/** ISO 7816 "wrong length", the status both Token2 families answer a malformed frame with. */
const SW_WRONG_LENGTH = 0x6700;

/**
 * Takes a command apart (the device side: simulators and transcripts). Case 2
 * (`.. 00`, Le only) carries no data; case 3 carries Lc bytes. `cipher` (the
 * key the device holds) checks the MAC of a secure command; without it
 * `macOk` is left unset.
 */
export function parseCommand(a: Uint8Array, cipher?: Sm4): ParsedCommand {
  if (a.length < 4)
    return {
      cla: a[0] ?? 0,
      ins: a[1] ?? 0,
      p1: 0,
      p2: 0,
      body: new Uint8Array(),
      error: { sw: SW_WRONG_LENGTH, why: 'shorter than a header' },
    };
  const [cla, ins, p1, p2] = [a[0]!, a[1]!, a[2]!, a[3]!];
  const lc = a.length >= 5 ? a[4]! : 0;
  const data = a.length > 5 ? a.subarray(5, 5 + lc) : new Uint8Array();
  if (a.length > 5 && a.length < 5 + lc)
    return {
      cla,
      ins,
      p1,
      p2,
      body: data,
      error: { sw: SW_WRONG_LENGTH, why: `Lc says ${lc} bytes, ${a.length - 5} sent` },
    };
  if (cla !== CLA_SECURE) return { cla, ins, p1, p2, body: Uint8Array.from(data) };
  if (data.length < 4)
    return {
      cla,
      ins,
      p1,
      p2,
      body: Uint8Array.from(data),
      error: { sw: SW_WRONG_LENGTH, why: 'secure command without a 4-byte MAC' },
    };
  const body = Uint8Array.from(data.subarray(0, data.length - 4));
  const mac = Uint8Array.from(data.subarray(data.length - 4));
  const macOk = cipher ? secureMac(cipher, ins, p1, p2, body).every((b, i) => b === mac[i]) : undefined;
  return { cla, ins, p1, p2, body, mac, macOk };
}

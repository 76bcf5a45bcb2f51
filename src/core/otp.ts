/**
 * One-time codes through otpauth: generate at a time or counter, verify within
 * a window, and measure drift in steps. RFC 6238 T0, Luhn check digits and
 * HOTP counters beyond 2^53 are handled here.
 */
import { createHmac } from 'node:crypto';
import { HOTP, Secret } from 'otpauth';
import { dpwCode, dpwDay } from './dpw.js';
import { DataError } from './errors.js';
import type { TokenSpec } from './spec.js';

function secretOf(seed: Uint8Array): Secret {
  // otpauth keeps a reference; give it a copy so callers can wipe their buffer.
  return new Secret({ buffer: Uint8Array.from(seed).buffer });
}

const ALG = { sha1: 'SHA1', sha256: 'SHA256', sha512: 'SHA512' } as const;
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** The time step that contains `at` for a period, counted from T0 (Unix seconds, RFC 6238). */
export function stepAt(at: Date | number, period: number, t0 = 0): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor((ms / 1000 - t0) / period);
}

/** The Luhn check digit of a string of decimal digits (ISO/IEC 7812, as RFC 4226's reference calcChecksum). */
export function luhnDigit(digits: string): string {
  let total = 0;
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    const d = digits.charCodeAt(i) - 48;
    total += double ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d;
  }
  return String((10 - (total % 10)) % 10);
}

/** The number of characters a token shows: its digits, plus one for a check digit. */
export function codeLength(spec: TokenSpec): number {
  return spec.digits + (spec.checkDigit ? 1 : 0);
}

/** RFC 4226 HOTP for counters beyond 2^53 (otpauth's counter is a JavaScript number). */
function hotpBig(seed: Uint8Array, spec: TokenSpec, counter: bigint): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(counter);
  const mac = createHmac(spec.algorithm, seed).update(msg).digest();
  const off = mac[mac.length - 1]! & 0x0f;
  const bin = mac.readUInt32BE(off) & 0x7fffffff;
  return String(bin % 10 ** spec.digits).padStart(spec.digits, '0');
}

/** The code at a counter or step: the HOTP value, with its Luhn digit where the token appends one. */
function codeAt(seed: Uint8Array, spec: TokenSpec, counter: number | bigint, secret?: Secret): string {
  const code =
    typeof counter === 'bigint' && counter > MAX_EXACT
      ? hotpBig(seed, spec, counter)
      : HOTP.generate({
          secret: secret ?? secretOf(seed),
          algorithm: ALG[spec.algorithm],
          digits: spec.digits,
          counter: Number(counter),
        });
  return spec.checkDigit ? code + luhnDigit(code) : code;
}

/** The HOTP counter to start from: the exact one when the record holds it and the caller passed the record's (rounded) counter. */
function counterOf(spec: TokenSpec, given: number | undefined): number | bigint {
  if (spec.counterExact !== undefined && (given === undefined || given === spec.counter))
    return BigInt(spec.counterExact);
  return given ?? spec.counter;
}

/** The code a token shows at `at` (TOTP, with drift in steps applied) or at its counter (HOTP). */
export function generateCode(
  seed: Uint8Array,
  spec: TokenSpec,
  opts: { at?: Date; counter?: number; driftSteps?: number } = {},
): string {
  if (spec.type === 'dpw') return dpwCode(seed, opts.at ?? new Date(), spec.digits);
  if (spec.type === 'hotp') return codeAt(seed, spec, counterOf(spec, opts.counter));
  const step = stepAt(opts.at ?? new Date(), spec.period, spec.t0) + (opts.driftSteps ?? 0);
  return codeAtStep(seed, spec, step);
}

/** The TOTP code for an absolute step number. */
export function codeAtStep(seed: Uint8Array, spec: TokenSpec, step: number): string {
  return codeAt(seed, spec, step);
}

export interface CodeMatch {
  /** Step (TOTP) or counter (HOTP) at which the code matched. */
  step: number;
  /** Offset from the expected step or counter. */
  offset: number;
}

/**
 * Finds the code within `window` steps of the expected one. For TOTP the
 * centre is the host's step plus the known drift; the search goes outwards so
 * that the smallest offset wins. For HOTP only counters ahead are searched.
 */
export function findCode(
  seed: Uint8Array,
  spec: TokenSpec,
  code: string,
  opts: { at?: Date; driftSteps?: number; window?: number; counter?: number } = {},
): CodeMatch | null {
  // A day password is checked against today's only, as LinOTP checks it.
  if (spec.type === 'dpw') {
    const at = opts.at ?? new Date();
    return dpwCode(seed, at, spec.digits) === code.trim() ? { step: dpwDay(at), offset: 0 } : null;
  }
  const wanted = code.trim();
  if (!/^\d+$/.test(wanted) || wanted.length !== codeLength(spec)) return null;
  const window = opts.window ?? 1;
  const secret = secretOf(seed);
  const gen = (counter: number | bigint) => codeAt(seed, spec, counter, secret);
  if (spec.type === 'hotp') {
    const start = counterOf(spec, opts.counter);
    if (typeof start === 'bigint') {
      for (let i = 0n; i <= BigInt(window); i++)
        if (gen(start + i) === wanted) return { step: Number(start + i), offset: Number(i) };
      return null;
    }
    for (let i = 0; i <= window; i++) if (gen(start + i) === wanted) return { step: start + i, offset: i };
    return null;
  }
  const centre = stepAt(opts.at ?? new Date(), spec.period, spec.t0) + (opts.driftSteps ?? 0);
  for (let d = 0; d <= window; d++) {
    if (gen(centre + d) === wanted) return { step: centre + d, offset: d };
    if (d > 0 && centre - d >= 0 && gen(centre - d) === wanted) return { step: centre - d, offset: -d };
  }
  return null;
}

/**
 * Finds two consecutive codes (c1 at step s, c2 at s+1) within `window`
 * steps of the host's time: the way a token is resynchronised.
 */
export function findConsecutive(
  seed: Uint8Array,
  spec: TokenSpec,
  codes: [string, string],
  opts: { at?: Date; window?: number } = {},
): CodeMatch | null {
  if (spec.type === 'dpw')
    throw new DataError(
      'a day password (DPW) has no clock or counter to resynchronise: its code depends on the date only',
      { code: 'not-resyncable' },
    );
  const window = opts.window ?? 1000;
  const secret = secretOf(seed);
  const gen = (counter: number) => codeAt(seed, spec, counter, secret);
  const [c1, c2] = codes.map((c) => c.trim());
  if (spec.type === 'hotp') {
    for (let i = 0; i <= window; i++) {
      const n = spec.counter + i;
      if (gen(n) === c1 && gen(n + 1) === c2) return { step: n + 1, offset: i + 1 };
    }
    return null;
  }
  const centre = stepAt(opts.at ?? new Date(), spec.period, spec.t0);
  for (let d = 0; d <= window; d++) {
    for (const s of d === 0 ? [centre] : [centre + d, centre - d]) {
      if (s >= 0 && gen(s) === c1 && gen(s + 1) === c2) return { step: s + 1, offset: s + 1 - centre };
    }
  }
  return null;
}

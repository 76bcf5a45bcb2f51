/**
 * The token spec: what a code generator needs besides the seed. Validated at
 * the boundary (CLI flags, import records, device answers), trusted inside.
 */
import { DataError } from './errors.js';

/** dpw: LinOTP's day password (core/dpw.ts), imported from seed files only; no device is programmed with it. */
export const TOKEN_TYPES = ['totp', 'hotp', 'dpw'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
export const ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
export const TOKEN_KINDS = ['programmable', 'classic'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface TokenSpec {
  type: TokenType;
  algorithm: Algorithm;
  digits: number;
  /** Time step in seconds (TOTP). */
  period: number;
  /** Moving factor (HOTP). */
  counter: number;
  /** RFC 6238 T0: the Unix time (seconds) at which step 0 starts (TOTP); 0 when absent. */
  t0?: number;
  /** A Luhn check digit is appended to each code (RFC 4226 section 5.3's reference code, RFC 6030 CheckDigits). */
  checkDigit?: boolean;
  /** The exact HOTP counter in decimal when it is beyond 2^53-1 (up to 2^64-1); `counter` is then 2^53-1. */
  counterExact?: string;
}

export const DEFAULT_SPEC: TokenSpec = { type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: 0 };

export const MIN_DIGITS = 4;
export const MAX_DIGITS = 10;
/** Seeds shorter than this are weak; longer than this no token accepts. */
export const MIN_SEED_BYTES = 1;
export const MAX_SEED_BYTES = 128;

export function parseAlgorithm(input: string, where?: string): Algorithm {
  const s = input
    .trim()
    .toLowerCase()
    .replace(/^hmac[-_]?/, '')
    .replace(/-/g, '');
  if ((ALGORITHMS as readonly string[]).includes(s)) return s as Algorithm;
  throw new DataError(`unknown algorithm '${input}': use sha1, sha256 or sha512`, { code: 'bad-algorithm', where });
}

export function parseTokenType(input: string, where?: string): TokenType {
  const s = input.trim().toLowerCase();
  if ((TOKEN_TYPES as readonly string[]).includes(s)) return s as TokenType;
  throw new DataError(`unknown token type '${input}': use totp, hotp or dpw`, { code: 'bad-type', where });
}

export function parseKind(input: string, where?: string): TokenKind {
  const s = input.trim().toLowerCase();
  if ((TOKEN_KINDS as readonly string[]).includes(s)) return s as TokenKind;
  throw new DataError(`unknown token kind '${input}': use classic or programmable`, { code: 'bad-kind', where });
}

function parseIntStrict(input: string | number, what: string, where?: string): number {
  const n = typeof input === 'number' ? input : /^\s*-?\d+\s*$/.test(input) ? Number(input) : NaN;
  if (!Number.isSafeInteger(n))
    throw new DataError(`${what} must be a whole number, got '${input}'`, { code: 'bad-number', where });
  return n;
}

/** Builds a complete spec from partial input, filling defaults and checking ranges. */
export function validateSpec(input: Partial<Record<keyof TokenSpec, unknown>>, where?: string): TokenSpec {
  const type = input.type === undefined ? DEFAULT_SPEC.type : parseTokenType(String(input.type), where);
  const algorithm =
    input.algorithm === undefined ? DEFAULT_SPEC.algorithm : parseAlgorithm(String(input.algorithm), where);
  const digits =
    input.digits === undefined ? DEFAULT_SPEC.digits : parseIntStrict(input.digits as string, 'digits', where);
  if (digits < MIN_DIGITS || digits > MAX_DIGITS) {
    throw new DataError(`digits must be between ${MIN_DIGITS} and ${MAX_DIGITS}, got ${digits}`, {
      code: 'bad-digits',
      where,
    });
  }
  const period =
    input.period === undefined ? DEFAULT_SPEC.period : parseIntStrict(input.period as string, 'period', where);
  if (period < 1 || period > 86400)
    throw new DataError(`period must be between 1 and 86400 seconds, got ${period}`, { code: 'bad-period', where });
  const counter =
    input.counter === undefined ? DEFAULT_SPEC.counter : parseIntStrict(input.counter as string, 'counter', where);
  if (counter < 0) throw new DataError(`counter must not be negative, got ${counter}`, { code: 'bad-counter', where });
  return { type, algorithm, digits, period, counter };
}

export function validateSeedLength(seed: Uint8Array, where?: string): void {
  if (seed.length < MIN_SEED_BYTES || seed.length > MAX_SEED_BYTES) {
    throw new DataError(`seed must be ${MIN_SEED_BYTES} to ${MAX_SEED_BYTES} bytes, got ${seed.length}`, {
      code: 'bad-seed-length',
      where,
    });
  }
}

/** The seed length that matches an algorithm's output size, as RFC 4226/6238 recommend. */
export function recommendedSeedBytes(algorithm: Algorithm): number {
  return algorithm === 'sha1' ? 20 : algorithm === 'sha256' ? 32 : 64;
}

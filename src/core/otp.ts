/**
 * One-time codes through otpauth: generate at a time or counter, verify within
 * a window, and measure drift in steps.
 */
import { HOTP, TOTP, Secret } from 'otpauth';
import { dpwCode, dpwDay } from './dpw.js';
import { DataError } from './errors.js';
import type { TokenSpec } from './spec.js';

function secretOf(seed: Uint8Array): Secret {
  // otpauth keeps a reference; give it a copy so callers can wipe their buffer.
  return new Secret({ buffer: Uint8Array.from(seed).buffer });
}

const ALG = { sha1: 'SHA1', sha256: 'SHA256', sha512: 'SHA512' } as const;

/** The time step that contains `at` for a period. */
export function stepAt(at: Date | number, period: number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / 1000 / period);
}

/** The code a token shows at `at` (TOTP, with drift in steps applied) or at its counter (HOTP). */
export function generateCode(seed: Uint8Array, spec: TokenSpec, opts: { at?: Date; counter?: number; driftSteps?: number } = {}): string {
  if (spec.type === 'dpw') return dpwCode(seed, opts.at ?? new Date(), spec.digits);
  if (spec.type === 'hotp') {
    return HOTP.generate({ secret: secretOf(seed), algorithm: ALG[spec.algorithm], digits: spec.digits, counter: opts.counter ?? spec.counter });
  }
  const step = stepAt(opts.at ?? new Date(), spec.period) + (opts.driftSteps ?? 0);
  return codeAtStep(seed, spec, step);
}

/** The TOTP code for an absolute step number. */
export function codeAtStep(seed: Uint8Array, spec: TokenSpec, step: number): string {
  return HOTP.generate({ secret: secretOf(seed), algorithm: ALG[spec.algorithm], digits: spec.digits, counter: step });
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
  if (!/^\d+$/.test(wanted) || wanted.length !== spec.digits) return null;
  const window = opts.window ?? 1;
  const secret = secretOf(seed);
  const gen = (counter: number) => HOTP.generate({ secret, algorithm: ALG[spec.algorithm], digits: spec.digits, counter });
  if (spec.type === 'hotp') {
    const start = opts.counter ?? spec.counter;
    for (let i = 0; i <= window; i++) if (gen(start + i) === wanted) return { step: start + i, offset: i };
    return null;
  }
  const centre = stepAt(opts.at ?? new Date(), spec.period) + (opts.driftSteps ?? 0);
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
  if (spec.type === 'dpw') throw new DataError('a day password (DPW) has no clock or counter to resynchronise: its code depends on the date only', { code: 'not-resyncable' });
  const window = opts.window ?? 1000;
  const secret = secretOf(seed);
  const gen = (counter: number) => HOTP.generate({ secret, algorithm: ALG[spec.algorithm], digits: spec.digits, counter });
  const [c1, c2] = codes.map((c) => c.trim());
  if (spec.type === 'hotp') {
    for (let i = 0; i <= window; i++) {
      const n = spec.counter + i;
      if (gen(n) === c1 && gen(n + 1) === c2) return { step: n + 1, offset: i + 1 };
    }
    return null;
  }
  const centre = stepAt(opts.at ?? new Date(), spec.period);
  for (let d = 0; d <= window; d++) {
    for (const s of d === 0 ? [centre] : [centre + d, centre - d]) {
      if (s >= 0 && gen(s) === c1 && gen(s + 1) === c2) return { step: s + 1, offset: s + 1 - centre };
    }
  }
  return null;
}

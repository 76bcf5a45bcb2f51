/**
 * The portal's limits and the checks of what a client sends it: how many
 * tries and requests, how long a session lives, and what a field may hold.
 * Everything a user types is checked here, before it reaches a service.
 */
import { isEmailAddress } from '../core/email.js';
import { PolicyError, UsageError } from '../core/errors.js';

export interface PortalLimits {
  /** Requests per rate window from one user (by login in one Resource), one client address, and in all. */
  perUser: number;
  perAddress: number;
  overall: number;
  /** While the portal as a whole is over `overall`, an address gets this many per window (newcomers still get in). */
  perAddressUnderLoad: number;
  rateWindowMs: number;
  /** A session ends after this long without a request, and this long after sign-in whatever happens. */
  sessionIdleMs: number;
  sessionMaxMs: number;
  /** A new emailed code is sent at most this often per user. */
  emailCooldownMs: number;
}

export const DEFAULT_PORTAL_LIMITS: PortalLimits = {
  perUser: 30,
  perAddress: 120,
  overall: 3000,
  perAddressUnderLoad: 10,
  rateWindowMs: 60_000,
  sessionIdleMs: 15 * 60_000,
  sessionMaxMs: 8 * 60 * 60_000,
  emailCooldownMs: 60_000,
};

/** Refused because too many requests came in one window: the HTTP answer is 429 with Retry-After. */
export class RateLimitedError extends PolicyError {
  constructor(
    readonly scope: 'user' | 'address' | 'overall',
    readonly retryAfterSec: number,
  ) {
    const who = scope === 'overall' ? 'the portal as a whole' : scope === 'user' ? 'this login' : 'this address';
    super(`refused: too many requests for ${who}; try again in ${retryAfterSec} s`, { code: 'rate-limited' });
  }
}

/** Longest value of each field a portal request may carry (characters). */
export const FIELD_MAX: Record<string, number> = {
  login: 128,
  password: 1024,
  currentPassword: 1024,
  emailCode: 16,
  tokenCode: 16,
  code: 16,
  code1: 16,
  code2: 16,
  serial: 64,
  name: 200,
  email: 254,
  phone: 32,
  resource: 128,
};

// C0 and C1 controls, DEL, and the line and paragraph separators: none belongs in a name, login or serial.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Checks one text field against its length and for control characters; passwords may hold any printable text. */
export function checkField(key: string, value: string): string {
  const max = FIELD_MAX[key] ?? 256;
  if (value.length > max) throw new UsageError(`'${key}' is too long: at most ${max} characters`, 'field-too-long');
  if (CONTROL.test(value))
    throw new UsageError(
      `'${key}' holds a control character (a line break, tab or similar): type it on one line`,
      'control-character',
    );
  return value;
}

/** A required text field of a request body. */
export function requiredField(body: unknown, key: string): string {
  const v = (body as Record<string, unknown> | null | undefined)?.[key];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`'${key}' is missing`, 'missing-field');
  return checkField(key, v);
}

/** An optional text field: undefined when absent or empty. */
export function optionalField(body: unknown, key: string): string | undefined {
  const v = (body as Record<string, unknown> | null | undefined)?.[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new UsageError(`'${key}' must be text`, 'bad-field');
  return checkField(key, v);
}

/** A well-formed address: one @, a dotted host name of letters, digits and hyphens, nothing that breaks a mail header. */
export function checkPortalEmail(email: string): string {
  const e = checkField('email', email.trim());
  if (!isEmailAddress(e)) throw new UsageError(`'${e}' is not an email address (name@example.org)`, 'bad-email');
  return e;
}

/**
 * LinOTP's day password (DPW, "Tagespasswort"): not HMAC at all. The code of a
 * day is MD5 over the key text followed by the date written ddmmyy; the last
 * `digits` hex digits of the digest, read as a number, and of that number's
 * decimal digits the last `digits`, zero-padded (linotp/tokens/tagespassworttoken.py).
 * The key is the text LinOTP was given (the hex as written), not its bytes.
 * The date is the calendar day in the host's time zone, as LinOTP takes it.
 */
import { createHash } from 'node:crypto';

/** The date as LinOTP writes it into the hash: day, month, two-digit year, in local time. */
export function dpwDateString(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getDate())}${two(at.getMonth() + 1)}${two(at.getFullYear() % 100)}`;
}

/** The code of the day that contains `at`. */
export function dpwCode(key: Uint8Array, at: Date, digits = 6): string {
  const hex = createHash('md5').update(key).update(dpwDateString(at), 'ascii').digest('hex');
  const decimal = BigInt(`0x${hex.slice(-digits)}`).toString();
  return decimal.slice(-digits).padStart(digits, '0');
}

/** The day number (local calendar days since 1970-01-01): a DPW code's "step", for replay checks. */
export function dpwDay(at: Date): number {
  return Math.floor(Date.UTC(at.getFullYear(), at.getMonth(), at.getDate()) / 86_400_000);
}

/** Seconds until the local day ends: how long the code of `at` stays valid. */
export function dpwSecondsLeft(at: Date): number {
  const midnight = new Date(at.getFullYear(), at.getMonth(), at.getDate() + 1);
  return Math.ceil((midnight.getTime() - at.getTime()) / 1000);
}

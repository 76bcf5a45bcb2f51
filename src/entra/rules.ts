/**
 * What Entra ID can hold, checked before any call: TOTP only, 6-digit codes, HMAC-SHA1 or HMAC-SHA256,
 * a 30 or 60 second step, a base32 secret of at most 128 characters. A refusal names what is wrong.
 * Sources: docs/entra.md (the hardwareOathTokenAuthenticationMethodDevice reference and the OATH tokens article).
 */
import type { TokenRecord } from '../store/types.js';

const MAX_SECRET_CHARS = 128;

export function entraRefusal(t: TokenRecord, seed: Uint8Array | null): string | null {
  if (t.type === 'hotp') return 'HOTP: Entra holds TOTP tokens only';
  if (t.type !== 'totp') return `${t.type.toUpperCase()}: Entra holds TOTP tokens only`;
  if (t.digits !== 6) return `${t.digits} digits: Entra verifies 6-digit codes only`;
  if (t.algorithm !== 'sha1' && t.algorithm !== 'sha256')
    return `${t.algorithm.toUpperCase().replace('SHA', 'SHA-')}: Entra takes HMAC-SHA1 or HMAC-SHA256 only`;
  if (t.period !== 30 && t.period !== 60) return `period ${t.period} s: Entra takes a 30 or 60 second step only`;
  if (t.t0) return `T0 ${t.t0}: Entra counts steps from the Unix epoch only`;
  if (t.checkDigit) return 'check digit: Entra verifies plain 6-digit codes only';
  if (!seed) return 'no seed in the store';
  if (Math.ceil((seed.length * 8) / 5) > MAX_SECRET_CHARS)
    return `seed of ${seed.length} bytes: Entra takes at most ${MAX_SECRET_CHARS} base32 characters`;
  return null;
}

/**
 * Microsoft Entra ID's hardware OATH token CSV. Entra takes TOTP with
 * HMAC-SHA1, 30 or 60 seconds, 6 digits, base32 secrets of at most 128
 * characters, and every row needs a UPN, a manufacturer and a model; any
 * other token is reported and left out, never changed, so that each row of
 * the file uploads.
 */
import { encodeBase32 } from '../core/codecs.js';
import { csvRow } from './csv-cells.js';
import type { ExportToken, FormatWriter } from './types.js';

export const ENTRA_HEADER = 'upn,serial number,secret key,time interval,manufacturer,model';
const MAX_SECRET_CHARS = 128;

/** The UPN: the login when it is one (name@domain), else the user's email, else empty (unassigned). */
export function entraUpn(t: ExportToken): string {
  if (!t.user) return '';
  return t.user.includes('@') ? t.user : (t.userEmail ?? '');
}

/** Why a row would lack a column Entra requires (UPN, manufacturer, model), or null. */
export function entraMissingColumn(t: ExportToken): string | null {
  if (!t.user)
    return `not assigned to a user: every row of Entra's CSV names the user (UPN); assign it first, or export --state assigned,enrolled`;
  const state = t.token.state;
  if (state !== 'assigned' && state !== 'enrolled')
    return `state ${state}: only assigned or enrolled tokens go to Entra, where nobody should sign in with this one; if an earlier upload holds it, delete it there`;
  if (!entraUpn(t))
    return `no UPN for user '${t.user}': the login is not name@domain and the user has no email; give the user an email`;
  const fill =
    'give it at import (import --manufacturer <m> --model <m>; for tokens already in the store, import the file again with those and --on-duplicate update)';
  if (!t.token.manufacturer) return `no manufacturer, which Entra requires: ${fill}`;
  if (!t.token.model) return `no model, which Entra requires: ${fill}`;
  return null;
}

export class EntraCsvWriter implements FormatWriter {
  readonly encrypted = false;

  refuse(t: ExportToken): string | null {
    return this.refuseSpec(t) ?? entraMissingColumn(t);
  }

  private refuseSpec(t: ExportToken): string | null {
    const tok = t.token;
    if (tok.type !== 'totp') return 'Entra ID takes TOTP tokens only; this one is HOTP';
    if (tok.algorithm !== 'sha1') return `Entra ID takes HMAC-SHA1 only; this token is ${tok.algorithm.toUpperCase()}`;
    if (tok.period !== 30 && tok.period !== 60)
      return `Entra ID takes a 30 or 60 second time step; this token has ${tok.period} s`;
    if (tok.digits !== 6) return `Entra ID verifies 6-digit codes; this token shows ${tok.digits} digits`;
    if (Math.ceil((t.seed.length * 8) / 5) > MAX_SECRET_CHARS)
      return `the seed is ${t.seed.length} bytes; Entra ID takes at most ${MAX_SECRET_CHARS} base32 characters`;
    return null;
  }

  header(): string {
    return ENTRA_HEADER + '\r\n';
  }

  entry(t: ExportToken): string {
    const tok = t.token;
    return csvRow([entraUpn(t), tok.serial, encodeBase32(t.seed), tok.period, tok.manufacturer, tok.model!]);
  }

  footer(): string {
    return '';
  }
}

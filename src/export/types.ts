/**
 * What every export writer shares: the token as it leaves the store (record,
 * opened seed, assigned user), and the shape of a format writer, which turns
 * tokens into text one at a time so that the service can stream the output.
 */
import type { TokenRecord } from '../store/types.js';
import type { ExportFormat } from './formats/names.js';

// The formats' names and which hold seeds only in the clear are the format table's (./formats/names.ts).
export { EXPORT_FORMATS, PLAIN_ONLY_FORMATS, type ExportFormat } from './formats/names.js';

export interface ExportToken {
  token: TokenRecord;
  /** The opened seed; the service wipes it after the writer has used it. */
  seed: Buffer;
  /** Login of the assigned user, if any. */
  user: string | null;
  /** Email of the assigned user, if any (Entra's UPN falls back to it). */
  userEmail: string | null;
  /** Name of the Resource the token is assigned in (or whose stock it is in). */
  resource: string | null;
}

export interface SkippedToken {
  serial: string;
  reason: string;
}

/** A TOTP token written with a known clock drift that the format cannot carry: named with what to do. */
export interface DriftedToken {
  serial: string;
  /** The stored drift in time steps (the token's step minus the host's). */
  driftSteps: number;
  advice: string;
}

/** A streaming writer for one format. */
export interface FormatWriter {
  /** Why a token cannot go into this format (it is then reported, never changed), or null. */
  refuse?(t: ExportToken): string | null;
  /** The format writes RFC 6238 T0, the check digit and counters beyond 2^53 (PSKC); other formats leave such tokens out. */
  readonly carriesCodeFields?: boolean;
  /** The format carries a TOTP token's known clock drift (PSKC TimeDrift); other formats name drifted tokens. */
  readonly carriesDrift?: boolean;
  header(): string;
  entry(t: ExportToken): string | Promise<string>;
  footer(): string;
  /** Lines for the person at the terminal once the file is written (stderr, not in --json). */
  notes?(): string[];
  /** Seeds in the file are encrypted. */
  readonly encrypted: boolean;
}

export interface ExportResult {
  format: ExportFormat;
  /** Absolute path of the file written, or "-" for stdout. */
  file: string;
  exported: number;
  skipped: SkippedToken[];
  /** Tokens written whose clock drift the format cannot carry (empty for pskc and enrollment). */
  drifted: DriftedToken[];
  encrypted: boolean;
}

/** Why a token whose codes need T0, a check digit or an exact 64-bit counter cannot go into a format that cannot say so, or null. */
export function codeFieldsRefusal(t: ExportToken, format: string): string | null {
  const tok = t.token;
  if (tok.t0)
    return `its codes count from T0 = ${tok.t0} (RFC 6238), which ${format} cannot carry: its codes would be wrong; export it as pskc`;
  if (tok.checkDigit)
    return `its codes end in a Luhn check digit, which ${format} cannot carry: its codes would be wrong; export it as pskc`;
  if (tok.counterExact !== undefined)
    return `its counter ${tok.counterExact} is beyond what ${format} is written with exactly; export it as pskc`;
  return null;
}

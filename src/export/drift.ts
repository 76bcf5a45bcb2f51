/**
 * A TOTP token whose clock drifts (`tokens resync` stored the offset) keeps
 * working only where the MFA server knows the drift. PSKC (`TimeDrift`) and
 * the enrollment package carry it; no other format has a field for it, so
 * the export names each such token with what the admin should do instead of
 * dropping the drift silently.
 */
import type { TokenRecord } from '../store/types.js';
import type { DriftedToken, ExportFormat } from './types.js';

const steps = (n: number) => `${n} step${n === 1 ? '' : 's'}`;

/** What the admin can do, per format; `n` is the size of the drift in steps. */
function adviceFor(format: ExportFormat, n: number): string {
  const fix =
    "set the token's clock (tokensmith device sync, for models whose clock can be set) and export again, or replace the token";
  if (format === 'usersfile')
    return (
      `pam_oath cannot hold a drift (liboath checks TOTP codes at the host's own time; the counter field does not shift them): ` +
      `it accepts this token only with window=${n} or more in the pam_oath.so line, which widens it for every user; better: ${fix}`
    );
  if (format === 'entra-csv')
    return `Entra ID's CSV has no drift column and Entra checks codes at its own time: ${fix}`;
  return `${format} has no field for a drift, so the server checks this token's codes at its own time: ${fix}, or give the server the pskc export (TimeDrift)`;
}

/** The drifted-token entry for a token written into a format that cannot carry its drift, or null. */
export function driftNotCarried(format: ExportFormat, tok: TokenRecord): DriftedToken | null {
  if (tok.type !== 'totp' || tok.driftSteps === 0) return null;
  const n = Math.abs(tok.driftSteps);
  const way = tok.driftSteps > 0 ? 'ahead of' : 'behind';
  return {
    serial: tok.serial,
    driftSteps: tok.driftSteps,
    advice: `its clock is ${steps(n)} (${n * tok.period} s) ${way} the host's; ${adviceFor(format, n)}`,
  };
}

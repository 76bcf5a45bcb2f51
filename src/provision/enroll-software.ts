/**
 * The two steps of starting a software token that are its own: a pending one
 * the user never confirmed makes way for the new one, and the otpauth URI the
 * authenticator app scans. The flow itself is startSoftwareToken (enroll.ts).
 */
import { TOTP, Secret } from 'otpauth';
import { nextState } from '../core/states.js';
import type { Repos, ResourceRecord, UserRecord } from '../store/types.js';
import { isSoftwareToken, refuse } from './assign.js';

/** A software token the user started and never confirmed is revoked (its secret wiped); any other token of theirs is refused. */
export async function replacePendingSoftwareToken(
  tx: Repos,
  user: UserRecord,
  r: ResourceRecord,
  actor: string | undefined,
): Promise<void> {
  const mine = await tx.assignments.byUserResource(user.id, r.id);
  if (mine) {
    const t = (await tx.tokens.get(mine.tokenId))!;
    if (!(isSoftwareToken(t) && t.state === 'assigned')) {
      throw refuse(
        'one-token-per-resource',
        `user '${user.login}' already has token ${t.serial} in Resource '${r.name}'`,
        'an admin unassigns that one first',
      );
    }
    await tx.assignments.delete(mine.id);
    await tx.tokens.update(t.id, { state: nextState(t.state, 'revoke'), seed: null });
    await tx.audit.append({
      action: 'token.revoke',
      subject: `token:${t.serial}`,
      actor: actor,
      details: {
        reason: 'replaced by a new software token before it was confirmed',
        user: user.login,
        resource: r.name,
      },
    });
  }
}

/** The otpauth URI an authenticator app scans, and the secret in base32 for typing it in. */
export function otpauthOf(
  seed: Buffer,
  issuer: string,
  label: string,
  spec: { digits: number; period: number },
): { otpauthUri: string; secret: string } {
  const secret = new Secret({ buffer: Uint8Array.from(seed).buffer });
  const otp = new TOTP({ issuer, label, secret, algorithm: 'SHA1', digits: spec.digits, period: spec.period });
  return { otpauthUri: otp.toString(), secret: secret.base32 };
}

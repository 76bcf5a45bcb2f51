/**
 * The admin's life-cycle moves on a token: disable, enable, lost, revoke,
 * retire (through nextState), unlock after failed codes, and resynchronise
 * from two consecutive codes.
 */
import { DataError, UsageError } from '../core/errors.js';
import { findConsecutive } from '../core/otp.js';
import { nextState, type TokenEvent, type TokenState } from '../core/states.js';
import type { Repos, Store, TokenRecord } from '../store/types.js';
import { isSoftwareToken, refuse } from './assign.js';
import { findToken } from './tokens.js';

export const LIFECYCLE_ACTIONS = ['disable', 'enable', 'lost', 'revoke', 'retire'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

const EVENT: Record<LifecycleAction, TokenEvent> = {
  disable: 'disable',
  enable: 'enable',
  lost: 'lose',
  revoke: 'revoke',
  retire: 'retire',
};

export interface LifecycleResult {
  serial: string;
  action: string;
  from: TokenState;
  to: TokenState;
  user: string | null;
  resource: string | null;
}

/** Applies one life-cycle move. Revoke and retire also end the token's assignment. */
export async function changeTokenState(
  store: Store,
  serial: string,
  action: LifecycleAction,
  opts: { manufacturer?: string; reason?: string } = {},
): Promise<LifecycleResult> {
  return store.transaction(async (tx) => {
    const t = await findToken(tx, serial, opts.manufacturer);
    const to = nextState(t.state, EVENT[action], { previous: t.previousState, kind: t.kind, hasSeed: t.hasSeed });
    const a = await tx.assignments.byToken(t.id);
    const user = a ? await tx.users.get(a.userId) : null;
    const r = a
      ? await tx.resources.get(a.resourceId)
      : t.resourceId !== null
        ? await tx.resources.get(t.resourceId)
        : null;
    // Remember where a token was before a side state, so `enable` can go back there; an assignment outlives disable/lost.
    const entersSide = to === 'disabled' || to === 'lost';
    const previousState = entersSide
      ? t.state === 'disabled' || t.state === 'lost'
        ? t.previousState
        : t.state
      : null;
    let endsAssignment = (to === 'revoked' || to === 'retired') && a !== null;
    if (action === 'enable' && a && to !== 'assigned' && to !== 'enrolled') endsAssignment = true;
    if (endsAssignment) await tx.assignments.delete(a!.id);
    // A token out of use ends its user's portal sessions there: none of them goes on without the second factor.
    if (a && ['disabled', 'lost', 'revoked', 'retired'].includes(to))
      await tx.portal.endUserSessionsIn(a.userId, a.resourceId);
    await tx.tokens.update(t.id, {
      state: to,
      previousState,
      ...(to === 'retired' && isSoftwareToken(t) ? { seed: null } : {}),
    });
    await tx.audit.append({
      action: `token.${action}`,
      subject: `token:${t.serial}`,
      details: {
        from: t.state,
        to,
        user: user?.login ?? null,
        resource: r?.name ?? null,
        ...(endsAssignment ? { assignmentEnded: true } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
      },
    });
    return { serial: t.serial, action, from: t.state, to, user: user?.login ?? null, resource: r?.name ?? null };
  });
}

/** Clears the enrollment lock and the failed-code counter. */
export async function unlockToken(
  store: Store,
  serial: string,
  opts: { manufacturer?: string } = {},
): Promise<{ serial: string; wasLocked: boolean; failedAttempts: number }> {
  return store.transaction(async (tx) => {
    const t = await findToken(tx, serial, opts.manufacturer);
    await tx.tokens.update(t.id, { locked: false, failedAttempts: 0 });
    await tx.audit.append({
      action: 'token.unlock',
      subject: `token:${t.serial}`,
      details: { wasLocked: t.locked, failedAttempts: t.failedAttempts },
    });
    return { serial: t.serial, wasLocked: t.locked, failedAttempts: t.failedAttempts };
  });
}

export interface ResyncResult {
  serial: string;
  driftSteps: number;
  previousDriftSteps: number;
  /** HOTP: the counter the token will show next. */
  counter?: number;
}

export function parseCodePair(input: string | string[]): [string, string] {
  const codes = (Array.isArray(input) ? input : [input]).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  if (codes.length !== 2 || codes.some((c) => !/^\d{4,10}$/.test(c))) {
    throw new UsageError(
      `--codes takes two consecutive codes the token showed, one after the other: --codes 123456,654321`,
    );
  }
  return [codes[0]!, codes[1]!];
}

/**
 * Resynchronises a token from two consecutive codes searched within a wide
 * window (the Resource's sync window, default ±1000 steps). Whether a user may
 * do it in a portal (the Resource's `synchronize` action) is the portal's
 * check; the admin is not bound by the Allowed Actions.
 */
export async function resyncWithin(
  tx: Repos,
  t: TokenRecord,
  codes: [string, string],
  opts: { at?: Date; actor?: string; via?: string } = {},
): Promise<ResyncResult> {
  const a = await tx.assignments.byToken(t.id);
  const resourceId = a?.resourceId ?? t.resourceId;
  const r = resourceId !== null ? await tx.resources.get(resourceId) : null;
  if (t.state === 'retired' || t.state === 'revoked')
    throw new DataError(`token ${t.serial} is ${t.state}: there is nothing to resynchronise`, {
      code: 'illegal-transition',
      where: t.serial,
    });
  const seed = await tx.tokens.openSeed(t);
  let match;
  try {
    match = findConsecutive(seed, t, codes, { at: opts.at, window: r?.syncWindow ?? 1000 });
  } finally {
    seed.fill(0);
  }
  if (!match) {
    await tx.audit.append({
      action: 'token.resync-failed',
      subject: `token:${t.serial}`,
      actor: opts.actor,
      details: { via: opts.via ?? 'admin' },
    });
    throw new DataError(
      `the two codes are not consecutive codes of token ${t.serial} within ±${r?.syncWindow ?? 1000} steps: read two codes in a row from the token and try again`,
      {
        code: 'resync-failed',
        where: t.serial,
      },
    );
  }
  if (t.lastUsedStep !== null && match.step <= t.lastUsedStep) {
    throw refuse(
      'code-already-used',
      `these codes were used before on token ${t.serial}`,
      'wait for the token to show new codes',
      t.serial,
    );
  }
  const patch =
    t.type === 'hotp'
      ? { counter: match.step + 1, lastUsedStep: match.step }
      : { driftSteps: match.offset, lastUsedStep: match.step };
  await tx.tokens.update(t.id, patch);
  await tx.audit.append({
    action: 'token.resync',
    subject: `token:${t.serial}`,
    actor: opts.actor,
    details: {
      previousDriftSteps: t.driftSteps,
      // The drift in seconds too, so a report need not assume the token's period never changed.
      ...(t.type === 'hotp'
        ? { counter: match.step + 1 }
        : { driftSteps: match.offset, driftSeconds: match.offset * t.period }),
      via: opts.via ?? 'admin',
    },
  });
  return {
    serial: t.serial,
    driftSteps: t.type === 'hotp' ? t.driftSteps : match.offset,
    previousDriftSteps: t.driftSteps,
    ...(t.type === 'hotp' ? { counter: match.step + 1 } : {}),
  };
}

export async function resyncToken(
  store: Store,
  serial: string,
  codes: [string, string],
  opts: { at?: Date; manufacturer?: string } = {},
): Promise<ResyncResult> {
  return resyncKeepingFailure(store, (tx) => findToken(tx, serial, opts.manufacturer), codes, opts);
}

/** Resynchronises the token `pick` finds; a failed resync's audit row must survive the refusal, so the refusal is thrown after the commit. */
export async function resyncKeepingFailure(
  store: Store,
  pick: (tx: Repos) => Promise<TokenRecord>,
  codes: [string, string],
  opts: { at?: Date; actor?: string; via?: string },
): Promise<ResyncResult> {
  // The outcome is the function's value (PostgreSQL may run it more than once): a result, or the refusal to throw after the commit.
  const outcome = await store.transaction(async (tx): Promise<{ result: ResyncResult } | { failure: unknown }> => {
    const t = await pick(tx);
    try {
      return { result: await resyncWithin(tx, t, codes, opts) };
    } catch (err) {
      if ((err as { code?: string }).code !== 'resync-failed') throw err;
      return { failure: err };
    }
  });
  if ('failure' in outcome) throw outcome.failure;
  return outcome.result;
}

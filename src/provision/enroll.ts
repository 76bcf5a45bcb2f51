/**
 * The enrollment flow: a user claims a hardware token from a Resource's stock
 * by typing the code it shows now, or confirms a software token with its
 * first code. The portal (selfservice.ts) and the admin's `tokensmith enroll`
 * both come here, so the same rules apply to both.
 */
import { randomBytes } from 'node:crypto';
import { DataError, PolicyError } from '../core/errors.js';
import { findCode, type CodeMatch } from '../core/otp.js';
import { nextState } from '../core/states.js';
import type {
  AssignmentRecord,
  EnrollTokenType,
  Repos,
  ResourceRecord,
  Store,
  TokenRecord,
  UserRecord,
} from '../store/types.js';
import { createAssignment, isSoftwareToken, refuse } from './assign.js';
import { otpauthOf, replacePendingSoftwareToken } from './enroll-software.js';
import { findResource, isAllowed } from './resources.js';
import { findToken } from './tokens.js';
import { findUser } from './users.js';

export interface Actor {
  /** Written to the audit rows: the operator (admin) or `portal:<login>`. */
  actor?: string;
  via: 'admin' | 'portal';
}

export interface ClaimInput extends Actor {
  resource: string;
  login: string;
  serial: string;
  code: string;
  manufacturer?: string;
  at?: Date;
  /** Portal only: tries the user has left; a wrong code on a stock token then counts against the user, not the token. */
  userAttemptsLeft?: number;
}

export interface ClaimResult {
  serial: string;
  user: string;
  resource: string;
  state: 'enrolled';
  driftSteps: number;
  enrolledAt: string;
}

export function enrollTypeOf(t: TokenRecord): EnrollTokenType {
  return isSoftwareToken(t) ? 'software' : t.kind;
}

/**
 * The checks every portal action starts with: the Resource, the user in it, the action allowed. `action` null:
 * the admin acting for the user, whom the Allowed Actions (what users may do in a portal) do not bind.
 */
export async function portalContext(
  tx: Repos,
  resource: string,
  login: string,
  action: Parameters<typeof isAllowed>[1] | null,
): Promise<{ r: ResourceRecord; user: UserRecord }> {
  const r = await findResource(tx, resource);
  const user = await findUser(tx, login);
  if (!(await tx.users.isInResource(user.id, r.id))) {
    throw refuse(
      'user-not-in-resource',
      `user '${login}' is not a user of Resource '${r.name}'`,
      `an admin adds them with: tokensmith user join ${login} --resource ${r.name}`,
    );
  }
  if (action !== null && !isAllowed(r, action)) {
    throw refuse(
      'action-not-allowed',
      `Resource '${r.name}' does not allow '${action}'`,
      `an admin allows it with: tokensmith resource allow ${r.name} --actions ${action}`,
    );
  }
  return { r, user };
}

/** Refuses a token whose type the Resource does not take for enrollment. */
function checkType(r: ResourceRecord, t: TokenRecord): void {
  const type = enrollTypeOf(t);
  if (!r.tokenTypes.includes(type)) {
    throw refuse(
      'token-type-not-allowed',
      `token ${t.serial} is a ${type} token and Resource '${r.name}' enrolls ${r.tokenTypes.length ? r.tokenTypes.join(', ') : 'no token type yet'}`,
      `an admin allows it with: tokensmith resource allow ${r.name} --token-types ${type}`,
      t.serial,
    );
  }
}

/** Refuses a claim the rules do not allow before any code is checked: another user's token, one outside the stock, a second token, a locked one. */
async function checkClaimable(
  tx: Repos,
  r: ResourceRecord,
  user: UserRecord,
  token: TokenRecord,
  holder: AssignmentRecord | null,
): Promise<void> {
  if (holder && holder.userId !== user.id) {
    throw refuse(
      'token-has-other-user',
      `token ${token.serial} is assigned to another user`,
      'claim a token from the stock instead',
      token.serial,
    );
  }
  if (holder && holder.resourceId !== r.id) {
    throw refuse(
      'token-not-in-stock',
      `token ${token.serial} is assigned to '${user.login}' in another Resource`,
      undefined,
      token.serial,
    );
  }
  checkType(r, token);
  if (!holder) {
    if (token.resourceId !== r.id) {
      throw refuse(
        'token-not-in-stock',
        `token ${token.serial} is not in the stock of Resource '${r.name}'`,
        `an admin puts it there with: tokensmith assign ${token.serial} ${user.login} --resource ${r.name}`,
        token.serial,
      );
    }
    nextState(token.state, 'assign'); // refuses a disabled, lost, revoked or retired token, naming the state
    const mine = await tx.assignments.byUserResource(user.id, r.id);
    if (mine) {
      const other = await tx.tokens.get(mine.tokenId);
      throw refuse(
        'one-token-per-resource',
        `user '${user.login}' already has token ${other?.serial ?? `#${mine.tokenId}`} in Resource '${r.name}'`,
        'an admin unassigns that one first',
        token.serial,
      );
    }
  }
  if (token.locked) {
    throw refuse(
      'token-locked',
      `token ${token.serial} is locked after ${token.failedAttempts} failed codes`,
      `an admin unlocks it with: tokensmith tokens unlock ${token.serial}`,
      token.serial,
    );
  }
}

interface ClaimAttempt {
  input: ClaimInput;
  r: ResourceRecord;
  user: UserRecord;
  token: TokenRecord;
  holder: AssignmentRecord | null;
  code: string;
}

/** Counts a wrong or replayed code (on the token, or against the user on a stock token) and returns the refusal to throw after the commit. */
async function recordRejectedCode(tx: Repos, a: ClaimAttempt, replay: boolean): Promise<PolicyError> {
  const { input, r, user, token, code } = a;
  // A stranger's guesses on a stock token must not lock it for the user it is meant for.
  const countOnToken = input.userAttemptsLeft === undefined || a.holder !== null;
  const failed = countOnToken ? token.failedAttempts + 1 : token.failedAttempts;
  const locked = countOnToken ? failed >= r.lockAfter : token.locked;
  if (countOnToken) await tx.tokens.update(token.id, { failedAttempts: failed, locked });
  await tx.audit.append({
    action: 'token.enroll-failed',
    subject: `token:${token.serial}`,
    actor: input.actor,
    details: {
      user: user.login,
      resource: r.name,
      reason: replay ? 'code-already-used' : 'code-rejected',
      failedAttempts: failed,
      locked,
      via: input.via,
    },
  });
  const left = !countOnToken
    ? `${input.userAttemptsLeft} attempt(s) left before enrollment is locked for you`
    : locked
      ? `token ${token.serial} is now locked: an admin unlocks it with: tokensmith tokens unlock ${token.serial}`
      : `${r.lockAfter - failed} attempt(s) left before the token is locked`;
  return replay
    ? refuse(
        'code-already-used',
        `code ${code} was already used on token ${token.serial}`,
        `wait for the next code; ${left}`,
        token.serial,
      )
    : refuse(
        'code-rejected',
        `code ${code} is not a code of token ${token.serial} within ±${r.window} steps of now`,
        `type the code the token shows now; ${left}`,
        token.serial,
      );
}

/** A matching code: assigns a stock token, moves it to enrolled and keeps the drift and the step used. */
async function enrollMatched(tx: Repos, a: ClaimAttempt, match: CodeMatch): Promise<ClaimResult> {
  const { input, r, user, token } = a;
  let holder = a.holder;
  if (holder && token.state === 'enrolled') {
    throw new DataError(`token ${token.serial} is already enrolled to '${user.login}' in Resource '${r.name}'`, {
      code: 'already-enrolled',
      where: token.serial,
    });
  }
  let state = token.state;
  if (!holder) {
    state = nextState(state, 'assign');
    holder = await createAssignment(tx, { tokenId: token.id, userId: user.id, resourceId: r.id });
    await tx.audit.append({
      action: 'token.assign',
      subject: `token:${token.serial}`,
      actor: input.actor,
      details: { user: user.login, resource: r.name, from: token.state, to: state, via: input.via },
    });
  }
  const from = state;
  state = nextState(state, 'enroll');
  const driftSteps = token.type === 'totp' ? token.driftSteps + match.offset : token.driftSteps;
  // The time it is recorded, never before the assignment it completes (`at` is the time the code is checked against).
  const now = new Date().toISOString();
  const enrolledAt = now > holder.createdAt ? now : holder.createdAt;
  await tx.tokens.update(token.id, {
    state,
    resourceId: r.id,
    driftSteps,
    lastUsedStep: match.step,
    failedAttempts: 0,
    ...(token.type === 'hotp' ? { counter: match.step + 1 } : {}),
  });
  await tx.assignments.markEnrolled(holder.id, enrolledAt);
  // From now on the portal asks this user for a token's code here, even after this token is disabled or lost.
  await tx.portal.holdSecondFactor(user.id, r.id, Date.parse(enrolledAt));
  await tx.audit.append({
    action: 'token.enroll',
    subject: `token:${token.serial}`,
    actor: input.actor,
    details: {
      user: user.login,
      resource: r.name,
      from,
      to: state,
      driftSteps,
      ...(token.type === 'totp' ? { driftSeconds: driftSteps * token.period } : {}),
      type: enrollTypeOf(token),
      via: input.via,
    },
  });
  return { serial: token.serial, user: user.login, resource: r.name, state: 'enrolled', driftSteps, enrolledAt };
}

/** Claims (or confirms) a token with the code it shows now. */
export async function claimToken(store: Store, input: ClaimInput): Promise<ClaimResult> {
  const at = input.at ?? new Date();
  // A wrong code must be counted even though the claim is refused: the refusal is the function's value, thrown after the commit
  // (a value, not a variable set inside, since PostgreSQL may run the function more than once).
  const result = await store.transaction(async (tx): Promise<ClaimResult | PolicyError> => {
    const { r, user } = await portalContext(tx, input.resource, input.login, input.via === 'admin' ? null : 'enroll');
    const token = await findToken(tx, input.serial, input.manufacturer);
    const holder = await tx.assignments.byToken(token.id);
    await checkClaimable(tx, r, user, token, holder);
    const code = input.code.trim();
    if (!/^\d+$/.test(code) || code.length !== token.digits) {
      throw new DataError(
        `the code must be the ${token.digits} digits token ${token.serial} shows, got '${input.code}'`,
        { code: 'bad-code', where: token.serial },
      );
    }
    const seed = await tx.tokens.openSeed(token);
    let match;
    try {
      match = findCode(seed, token, code, {
        at,
        driftSteps: token.driftSteps,
        window: r.window,
        counter: token.counter,
      });
    } finally {
      seed.fill(0);
    }
    const attempt: ClaimAttempt = { input, r, user, token, holder, code };
    const replay = match !== null && token.lastUsedStep !== null && match.step <= token.lastUsedStep;
    if (!match || replay) {
      return recordRejectedCode(tx, attempt, replay);
    }
    return enrollMatched(tx, attempt, match);
  });
  if (result instanceof PolicyError) throw result;
  return result;
}

export interface SoftwareTokenStart {
  serial: string;
  user: string;
  resource: string;
  /** The otpauth:// URI for the authenticator app; it holds the secret, show it to the user only. */
  otpauthUri: string;
  secret: string;
}

/**
 * Starts a software token: a fresh secret, a token pending for the user,
 * and the otpauth URI to scan. It becomes enrolled when the user confirms
 * it with a first code (claimToken). A pending one started earlier is retired.
 */
export async function startSoftwareToken(
  store: Store,
  input: Actor & { resource: string; login: string },
): Promise<SoftwareTokenStart> {
  const seed = randomBytes(20);
  try {
    return await store.transaction(async (tx) => {
      const { r, user } = await portalContext(tx, input.resource, input.login, input.via === 'admin' ? null : 'enroll');
      if (!r.tokenTypes.includes('software')) {
        throw refuse(
          'token-type-not-allowed',
          `Resource '${r.name}' does not enroll software tokens`,
          `an admin allows them with: tokensmith resource allow ${r.name} --token-types software`,
        );
      }
      await replacePendingSoftwareToken(tx, user, r, input.actor);
      const serial = `SW-${randomBytes(5).toString('hex').toUpperCase()}`;
      const spec = { type: 'totp' as const, algorithm: 'sha1' as const, digits: 6, period: 30, counter: 0 };
      const token = await tx.tokens.insert({
        serial,
        manufacturer: 'software',
        model: 'authenticator app',
        kind: 'programmable',
        ...spec,
        state: 'in_stock',
        seed,
        resourceId: r.id,
        attributes: { software: true },
      });
      await tx.audit.append({
        action: 'token.add',
        subject: `token:${serial}`,
        actor: input.actor,
        details: { software: true, ...spec, resource: r.name, via: input.via },
      });
      const state = nextState(token.state, 'assign');
      await createAssignment(tx, { tokenId: token.id, userId: user.id, resourceId: r.id });
      await tx.tokens.update(token.id, { state });
      await tx.audit.append({
        action: 'token.assign',
        subject: `token:${serial}`,
        actor: input.actor,
        details: { user: user.login, resource: r.name, from: token.state, to: state, via: input.via },
      });
      const { otpauthUri, secret } = otpauthOf(seed, r.name, user.login, spec);
      return { serial, user: user.login, resource: r.name, otpauthUri, secret };
    });
  } finally {
    seed.fill(0);
  }
}

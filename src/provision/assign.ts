/**
 * Giving tokens to users in Resources, and taking them back. One user has at
 * most one token per Resource; a token belongs to at most one user. Every
 * refusal names the rule it breaks (PolicyError, exit 5).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { csvHeader, parseCsvRows, type LineError } from '../core/csv.js';
import { DataError, PolicyError, TokensmithError } from '../core/errors.js';
import { nextState } from '../core/states.js';
import { StoreConflictError } from '../store/errors.js';
import type { AssignmentRecord, Repos, ResourceRecord, Store, TokenRecord, UserRecord } from '../store/types.js';
import { findResource } from './resources.js';
import { findToken } from './tokens.js';
import { findUser } from './users.js';

/** The rules of the house, by the code a refusal carries. */
export const RULES = {
  'user-not-in-resource': 'only users of a Resource can hold or claim a token in it',
  'one-token-per-resource': 'one user has at most one token per Resource',
  'token-has-other-user': 'a token belongs to at most one user',
  'token-not-in-stock': "a token is claimed from its Resource's stock",
  'token-type-not-allowed': 'only the token types the Resource allows can be enrolled',
  'action-not-allowed': 'every portal action is off until the Resource allows it',
  'token-locked': 'after too many failed codes a token is locked until an admin unlocks it',
  'code-rejected': "a code must be valid within the Resource's window",
  'code-already-used': 'a code that was used once is never accepted again',
  'sign-in-refused':
    'a portal sign-in needs the password (or the emailed code) and the code of the token held in the Resource',
  'cannot-sign-in': 'a user needs a password or an email to use a portal',
} as const;
export type RuleCode = keyof typeof RULES;

/** A PolicyError whose message says what was refused, the rule, and what to do next. */
export function refuse(rule: RuleCode, what: string, next?: string, where?: string): PolicyError {
  return new PolicyError(`refused: ${what} (rule: ${RULES[rule]})${next ? `; ${next}` : ''}`, { code: rule, where });
}

export interface AssignmentView {
  serial: string;
  user: string;
  resource: string;
  state: string;
  enrolled: boolean;
  /** With --replace: the serial of the token revoked for this one (null: none was held). */
  replaced?: string | null;
}

export interface AssignInput {
  serial: string;
  login: string;
  resource: string;
  manufacturer?: string;
  actor?: string;
  /** Recorded in the audit row: 'admin' (CLI), 'portal', an import line ... */
  via?: string;
  /** Revoke the token the user holds in the Resource first (a lost or broken one being replaced). */
  replace?: boolean;
}

/** Before a stored token is flashed again (nothing written yet): its state allows a flash, and the user it is to go to may have it. */
export async function checkReflash(
  store: Store,
  existing: TokenRecord | null,
  to: { user?: string; resource?: string },
): Promise<void> {
  if (!existing) return;
  nextState(existing.state, 'flash');
  if (to.user)
    await checkAssignRules(store, existing, await findUser(store, to.user), await findResource(store, to.resource!));
}

/** Checks the rules of giving `token` to `user` in `r`; throws the refusal, returns nothing. */
export async function checkAssignRules(
  tx: Repos,
  token: TokenRecord,
  user: UserRecord,
  r: ResourceRecord,
): Promise<void> {
  if (!(await tx.users.isInResource(user.id, r.id))) {
    throw refuse(
      'user-not-in-resource',
      `user '${user.login}' is not a user of Resource '${r.name}'`,
      `add them with: tokensmith user join ${user.login} --resource ${r.name}`,
    );
  }
  const holder = await tx.assignments.byToken(token.id);
  if (holder && holder.userId !== user.id) {
    const other = await tx.users.get(holder.userId);
    throw refuse(
      'token-has-other-user',
      `token ${token.serial} is assigned to another user${other ? ` ('${other.login}')` : ''}`,
      `unassign it first if it changed hands: tokensmith unassign ${token.serial}`,
      token.serial,
    );
  }
  const mine = await tx.assignments.byUserResource(user.id, r.id);
  if (mine && mine.tokenId !== token.id) {
    const t = await tx.tokens.get(mine.tokenId);
    throw refuse(
      'one-token-per-resource',
      `user '${user.login}' already has token ${t?.serial ?? `#${mine.tokenId}`}${t ? ` (${t.state})` : ''} in Resource '${r.name}'`,
      `${t ? endHoldingHint(t) : 'unassign that one first'}, or replace it in one step: tokensmith assign ${token.serial} ${user.login} --resource ${r.name} --replace`,
      token.serial,
    );
  }
  if (holder)
    throw new DataError(`token ${token.serial} is already assigned to '${user.login}' in this or another Resource`, {
      code: 'already-assigned',
      where: token.serial,
    });
}

/** The command that takes a token back from its user in its state: a lost or disabled token is revoked, not unassigned. */
function endHoldingHint(t: TokenRecord): string {
  return t.state === 'lost' || t.state === 'disabled'
    ? `it is ${t.state}: revoke it first (tokensmith tokens revoke ${t.serial})`
    : `unassign that one first (tokensmith unassign ${t.serial})`;
}

/**
 * `assign --replace`: the user's token in the Resource is revoked (whatever its state, it leaves the user's hands
 * for good: a lost one must stop working, a broken one is not handed out again) and its assignment ends.
 */
async function revokeReplaced(tx: Repos, user: UserRecord, r: ResourceRecord, by: TokenRecord, actor?: string) {
  const mine = await tx.assignments.byUserResource(user.id, r.id);
  if (!mine || mine.tokenId === by.id) return null;
  const old = (await tx.tokens.get(mine.tokenId))!;
  const to = nextState(old.state, 'revoke');
  await tx.assignments.delete(mine.id);
  await tx.tokens.update(old.id, { state: to, previousState: null });
  await tx.audit.append({
    action: 'token.revoke',
    subject: `token:${old.serial}`,
    actor,
    details: { from: old.state, to, user: user.login, resource: r.name, assignmentEnded: true, replacedBy: by.serial },
  });
  return old.serial;
}

/**
 * Writes an assignment. The database's unique constraints are the last word when two stations assign at
 * once; the store reports that as a fact (StoreConflictError) and the rule it enforces is refused here (exit 5).
 */
export async function createAssignment(
  tx: Repos,
  a: { tokenId: number; userId: number; resourceId: number },
): Promise<AssignmentRecord> {
  try {
    return await tx.assignments.create(a);
  } catch (err) {
    if (err instanceof StoreConflictError && err.conflict === 'assignment')
      throw new PolicyError(err.message, { code: 'assignment-conflict', cause: err });
    throw err;
  }
}

/** Assigns inside the caller's transaction (imports, the portal); writes the audit row. */
export async function assignWithin(
  tx: Repos,
  input: AssignInput,
): Promise<{ token: TokenRecord; user: UserRecord; resource: ResourceRecord; replaced: string | null }> {
  const r = await findResource(tx, input.resource);
  const user = await findUser(tx, input.login);
  const token = await findToken(tx, input.serial, input.manufacturer);
  // With --replace the new token is checked before the old one is touched: a refusal leaves both as they were.
  if (input.replace) nextState(token.state, 'assign', { kind: token.kind, hasSeed: token.hasSeed });
  const replaced =
    input.replace && (await tx.users.isInResource(user.id, r.id)) && !(await tx.assignments.byToken(token.id))
      ? await revokeReplaced(tx, user, r, token, input.actor)
      : null;
  await checkAssignRules(tx, token, user, r);
  const state = nextState(token.state, 'assign', { kind: token.kind, hasSeed: token.hasSeed });
  await createAssignment(tx, { tokenId: token.id, userId: user.id, resourceId: r.id });
  const updated = await tx.tokens.update(token.id, { state, resourceId: r.id });
  await tx.audit.append({
    action: 'token.assign',
    subject: `token:${token.serial}`,
    actor: input.actor,
    details: {
      user: user.login,
      resource: r.name,
      from: token.state,
      to: state,
      ...(token.resourceId !== null && token.resourceId !== r.id ? { movedFromResourceId: token.resourceId } : {}),
      via: input.via ?? 'admin',
    },
  });
  return { token: updated, user, resource: r, replaced };
}

export async function assignToken(store: Store, input: AssignInput): Promise<AssignmentView> {
  return store.transaction(async (tx) => {
    const { token, user, resource, replaced } = await assignWithin(tx, input);
    return {
      serial: token.serial,
      user: user.login,
      resource: resource.name,
      state: token.state,
      enrolled: false,
      ...(input.replace ? { replaced } : {}),
    };
  });
}

/**
 * Takes a token back from its user. A programmable token with a seed returns
 * to `programmed`, a classic one to `in_stock`, in the same Resource's stock.
 * A software token (an authenticator app's secret) is retired: its secret
 * was shown to the user and is not given to anyone else.
 */
export async function unassignWithin(
  tx: Repos,
  token: TokenRecord,
  opts: { actor?: string; via?: string } = {},
): Promise<TokenRecord> {
  const a = await tx.assignments.byToken(token.id);
  if (!a)
    throw new DataError(`token ${token.serial} is not assigned to anyone`, {
      code: 'not-assigned',
      where: token.serial,
    });
  if (token.state === 'lost' || token.state === 'disabled')
    throw new DataError(
      `token ${token.serial} is ${token.state} and cannot go back to stock: ${endHoldingHint(token)}; that ends its assignment, and the user can be given another token`,
      { code: 'illegal-transition', where: token.serial },
    );
  const user = await tx.users.get(a.userId);
  const r = await tx.resources.get(a.resourceId);
  let state = nextState(token.state, 'unassign', { kind: token.kind, hasSeed: token.hasSeed });
  await tx.assignments.delete(a.id);
  // The admin's unassign ends the user's portal sessions there; the portal's own keeps the session that asked.
  if (opts.via !== 'portal') await tx.portal.endUserSessionsIn(a.userId, a.resourceId);
  const software = isSoftwareToken(token);
  if (software) state = nextState(state, 'retire');
  const updated = await tx.tokens.update(token.id, { state, ...(software ? { seed: null } : {}) });
  await tx.audit.append({
    action: 'token.unassign',
    subject: `token:${token.serial}`,
    actor: opts.actor,
    details: {
      user: user?.login ?? null,
      resource: r?.name ?? null,
      from: token.state,
      to: state,
      via: opts.via ?? 'admin',
      ...(software ? { software: true } : {}),
    },
  });
  return updated;
}

export async function unassignToken(
  store: Store,
  serial: string,
  opts: { manufacturer?: string } = {},
): Promise<{ serial: string; state: string; user: string | null; resource: string | null }> {
  return store.transaction(async (tx) => {
    const token = await findToken(tx, serial, opts.manufacturer);
    const a = await tx.assignments.byToken(token.id);
    const user = a ? await tx.users.get(a.userId) : null;
    const r = a ? await tx.resources.get(a.resourceId) : null;
    const t = await unassignWithin(tx, token);
    return { serial: t.serial, state: t.state, user: user?.login ?? null, resource: r?.name ?? null };
  });
}

/** Software tokens are stored as programmable tokens marked in their attributes (the kind column has two values). */
export function isSoftwareToken(t: TokenRecord): boolean {
  return t.attributes.software === true;
}

export interface AssignCsvReport {
  file: string;
  assigned: number;
  failed: number;
  errors: LineError[];
  assignments: AssignmentView[];
}

/** Thrown to roll the assignments back; carries the errors of the attempt that decided it. */
class RollBack extends Error {
  constructor(readonly errors: LineError[]) {
    super('rolled back');
  }
}

/** Bulk assignment from CSV (serial, login, resource[, manufacturer]); all or nothing, errors per line. */
export async function assignFromCsv(store: Store, path: string): Promise<AssignCsvReport> {
  const file = basename(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${(err as Error).message}`, { code: 'file-read', cause: err });
  }
  const rows = parseCsvRows(text);
  if (rows.length === 0)
    throw new DataError(`${file} is empty: the first line must be the header (serial, login, resource)`, {
      code: 'bad-csv',
    });
  const cols = csvHeader(
    rows[0]!,
    ['serial', 'login', 'resource', 'manufacturer'],
    ['serial', 'login', 'resource'],
    file,
  );
  const get = (f: string[], c: string) => (cols.has(c) ? (f[cols.get(c)!] ?? '').trim() : '');
  try {
    // The report is the function's value: PostgreSQL may run the function more than once.
    return await store.transaction(async (tx) => {
      const report: AssignCsvReport = { file, assigned: 0, failed: 0, errors: [], assignments: [] };
      for (const r of rows.slice(1)) {
        const where = `${file}:${r.line}`;
        try {
          const serial = get(r.fields, 'serial');
          const login = get(r.fields, 'login');
          const resource = get(r.fields, 'resource');
          if (!serial || !login || !resource) throw new DataError('serial, login and resource are all required');
          const m = get(r.fields, 'manufacturer');
          const done = await assignWithin(tx, { serial, login, resource, manufacturer: m || undefined, via: where });
          report.assignments.push({
            serial: done.token.serial,
            user: done.user.login,
            resource: done.resource.name,
            state: done.token.state,
            enrolled: false,
          });
          report.assigned++;
        } catch (err) {
          if (!(err instanceof TokensmithError)) throw err;
          report.errors.push({ where, message: err.message });
        }
      }
      if (report.errors.length > 0) throw new RollBack(report.errors);
      return report;
    });
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
    return { file, assigned: 0, failed: err.errors.length, errors: err.errors, assignments: [] };
  }
}

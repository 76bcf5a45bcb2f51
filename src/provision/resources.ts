/**
 * Resources: a protected system (a VPN, a portal) with its self-service
 * rules. Every portal action is off and no token type is enrollable until an
 * admin allows it.
 */
import { DataError, NotFoundError, UsageError } from '../core/errors.js';
import {
  ENROLL_TOKEN_TYPES,
  TOKEN_ACTIONS,
  USER_ACTIONS,
  type EnrollTokenType,
  type Repos,
  type ResourceAction,
  type ResourceRecord,
  type Store,
} from '../store/types.js';

export const RESOURCE_ACTIONS: readonly ResourceAction[] = [...TOKEN_ACTIONS, ...USER_ACTIONS];

export interface ResourceView {
  name: string;
  url: string | null;
  lockAfter: number;
  window: number;
  syncWindow: number;
  actions: ResourceAction[];
  tokenTypes: EnrollTokenType[];
  users: number;
  tokens: number;
  assigned: number;
}

export async function findResource(repos: Repos, name: string): Promise<ResourceRecord> {
  const r = await repos.resources.findByName(name);
  if (!r) throw new NotFoundError(`no resource named '${name}' (create it with: tokensmith resource create ${name})`);
  return r;
}

/** Splits "a,b c" into a list, checking each against the known names. */
export function parseList<T extends string>(
  input: string | string[] | undefined,
  known: readonly T[],
  what: string,
): T[] {
  if (input === undefined) return [];
  const items = (Array.isArray(input) ? input : [input])
    .flatMap((s) => s.split(/[\s,]+/))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const i of items) {
    if (!(known as readonly string[]).includes(i))
      throw new UsageError(`unknown ${what} '${i}': use ${known.join(', ')}`, `bad-${what.replace(/\s+/g, '-')}`);
  }
  return [...new Set(items)] as T[];
}

/** An http(s) address, or a usage error naming --url. */
export function checkUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
    return u.toString();
  } catch {
    throw new UsageError(`--url: '${url}' is not an http(s) address (e.g. https://sso.example.com/portal)`);
  }
}

/** A whole number from 1 to max, or a usage error naming the flag. */
export function checkLimit(n: number, what: string, max: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw new UsageError(`${what} must be a whole number from 1 to ${max}, got ${n}`);
  return n;
}

function checkPositive(n: number | undefined, what: string, max: number): number | undefined {
  return n === undefined ? undefined : checkLimit(n, what, max);
}

export async function createResource(
  store: Store,
  input: { name: string; url?: string; lockAfter?: number; window?: number; syncWindow?: number },
): Promise<ResourceRecord> {
  const name = input.name.trim();
  if (!/^[\w.@-][\w .@-]{0,99}$/.test(name))
    throw new UsageError(`resource name '${input.name}' must be 1 to 100 letters, digits, spaces or . _ - @`);
  const url = input.url ? checkUrl(input.url) : null;
  const lockAfter = checkPositive(input.lockAfter, '--lock-after', 100);
  const window = checkPositive(input.window, '--window', 100);
  const syncWindow = checkPositive(input.syncWindow, '--sync-window', 100_000);
  return store.transaction(async (tx) => {
    if (await tx.resources.findByName(name))
      throw new DataError(`resource '${name}' already exists`, { code: 'duplicate-resource' });
    const r = await tx.resources.create({ name, url, lockAfter, window, syncWindow });
    await tx.audit.append({
      action: 'resource.create',
      subject: `resource:${name}`,
      details: { url: r.url, lockAfter: r.lockAfter, window: r.window, syncWindow: r.syncWindow },
    });
    return r;
  });
}

/** Allows (or denies) portal actions and enrollable token types; the rest stays as it was. */
export async function setResourcePermissions(
  store: Store,
  name: string,
  change: { allow: boolean; actions?: string | string[]; tokenTypes?: string | string[] },
): Promise<ResourceRecord> {
  const actions = parseList(change.actions, RESOURCE_ACTIONS, 'action');
  const tokenTypes = parseList(change.tokenTypes, ENROLL_TOKEN_TYPES, 'token type');
  if (actions.length === 0 && tokenTypes.length === 0) {
    throw new UsageError(
      `name at least one --actions (${RESOURCE_ACTIONS.join(', ')}) or --token-types (${ENROLL_TOKEN_TYPES.join(', ')})`,
    );
  }
  return store.transaction(async (tx) => {
    const r = await findResource(tx, name);
    const apply = <T extends string>(cur: T[], delta: T[], order: readonly T[]): T[] => {
      const set = new Set(cur);
      for (const d of delta) change.allow ? set.add(d) : set.delete(d);
      return order.filter((x) => set.has(x));
    };
    const next = await tx.resources.update(r.id, {
      actions: apply(r.actions, actions, RESOURCE_ACTIONS),
      tokenTypes: apply(r.tokenTypes, tokenTypes, ENROLL_TOKEN_TYPES),
    });
    await tx.audit.append({
      action: change.allow ? 'resource.allow' : 'resource.deny',
      subject: `resource:${r.name}`,
      details: { actions, tokenTypes, nowActions: next.actions, nowTokenTypes: next.tokenTypes },
    });
    return next;
  });
}

export async function viewResource(repos: Repos, r: ResourceRecord): Promise<ResourceView> {
  const users = await repos.users.list({ resourceId: r.id });
  const tokens = await repos.tokens.count({ resourceId: r.id });
  const assigned = (await repos.assignments.list({ resourceId: r.id })).length;
  return {
    name: r.name,
    url: r.url,
    lockAfter: r.lockAfter,
    window: r.window,
    syncWindow: r.syncWindow,
    actions: r.actions,
    tokenTypes: r.tokenTypes,
    users: users.length,
    tokens,
    assigned,
  };
}

export async function listResources(store: Store): Promise<ResourceView[]> {
  const all = await store.resources.list();
  return Promise.all(all.map((r) => viewResource(store, r)));
}

/** The rule every portal action goes through. */
export function isAllowed(r: ResourceRecord, action: ResourceAction): boolean {
  return r.actions.includes(action);
}

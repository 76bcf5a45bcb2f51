/**
 * What a sync would change in one Resource, worked out from the group's
 * members and the store without writing anything: who is added, updated,
 * disabled, who left, who is unchanged, and which logins are local users
 * already (reported, never merged).
 */
import type { DirectoryPerson } from '../directory/people.js';
import type { DirectoryAccount, DirectoryLink, Repos, ResourceRecord, UserRecord } from '../store/types.js';
import { checkEmail, checkLogin, checkPhone } from './users.js';

export interface PersonFields {
  login: string;
  dn: string;
  name: string | null;
  email: string | null;
  phone: string | null;
}

export interface ResourcePlan {
  resource: ResourceRecord;
  link: DirectoryLink;
  add: PersonFields[];
  update: { user: UserRecord; person: PersonFields; changed: string[] }[];
  disable: { user: UserRecord; person: PersonFields }[];
  leave: UserRecord[];
  unchanged: number;
  /** Logins of the group that are local users (or another directory's): reported, not merged. */
  conflicts: string[];
  /** Logins the store cannot take (characters outside the login rules). */
  invalid: string[];
  /** The directory's users in the Resource before the sync, the base of the removal guard. */
  current: number;
}

function tryOr<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** The person's values as the store keeps them; null when the login is not one the store can take. */
export function fieldsOf(p: DirectoryPerson): PersonFields | null {
  const login = tryOr(() => checkLogin(p.login), null);
  if (login === null || login !== p.login) return null;
  return {
    login,
    dn: p.dn,
    name: p.name,
    email: tryOr(() => checkEmail(p.email), null),
    phone: tryOr(() => checkPhone(p.phone), null),
  };
}

function changedFields(u: UserRecord, a: DirectoryAccount, p: PersonFields): string[] {
  const out: string[] = [];
  if (u.name !== p.name) out.push('name');
  if (u.email !== p.email) out.push('email');
  if (u.phone !== p.phone) out.push('phone');
  if (a.dn !== p.dn) out.push('dn');
  if (a.disabled) out.push('enabled');
  return out;
}

/** The store's side, read once per sync: users by login and the directory's accounts by user id. */
export interface StoreSide {
  usersByLogin: Map<string, UserRecord>;
  usersById: Map<number, UserRecord>;
  /** This directory's accounts: a user without one is local (or another directory's). */
  accounts: Map<number, DirectoryAccount>;
}

export async function readStoreSide(repos: Repos, directoryId: number): Promise<StoreSide> {
  const users = await repos.users.list();
  const accounts = new Map((await repos.directories.accounts(directoryId)).map((a) => [a.userId, a]));
  return {
    usersByLogin: new Map(users.map((u) => [u.login, u])),
    usersById: new Map(users.map((u) => [u.id, u])),
    accounts,
  };
}

export async function planResource(
  repos: Repos,
  side: StoreSide,
  resource: ResourceRecord,
  link: DirectoryLink,
  members: DirectoryPerson[],
): Promise<ResourcePlan> {
  const plan: ResourcePlan = {
    resource,
    link,
    add: [],
    update: [],
    disable: [],
    leave: [],
    unchanged: 0,
    conflicts: [],
    invalid: [],
    current: 0,
  };
  const inResource = new Set((await repos.users.list({ resourceId: resource.id })).map((u) => u.id));
  const seen = new Set<number>();
  for (const person of members) {
    const p = fieldsOf(person);
    if (!p) {
      plan.invalid.push(person.login);
      continue;
    }
    const user = side.usersByLogin.get(p.login);
    const account = user ? side.accounts.get(user.id) : undefined;
    if (user && !account) {
      plan.conflicts.push(p.login);
      continue;
    }
    if (user) seen.add(user.id);
    if (person.disabled) {
      if (user && account && !account.disabled && inResource.has(user.id)) plan.disable.push({ user, person: p });
      else if (user && inResource.has(user.id)) plan.unchanged++;
      continue;
    }
    if (!user || !inResource.has(user.id)) {
      plan.add.push(p);
      continue;
    }
    const changed = changedFields(user, account!, p);
    if (changed.length) plan.update.push({ user, person: p, changed });
    else plan.unchanged++;
  }
  for (const id of inResource) {
    const a = side.accounts.get(id);
    if (!a) continue;
    if (!a.disabled) plan.current++;
    if (!seen.has(id)) plan.leave.push(side.usersById.get(id)!);
  }
  return plan;
}

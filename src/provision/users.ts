/**
 * Users of Resources: add one, join and leave Resources (the CSV import is
 * users-import.ts). Passwords are hashed with
 * scrypt before they reach the store and are never shown.
 */
import { isEmailAddress } from '../core/email.js';
import { DataError, NotFoundError, UsageError } from '../core/errors.js';
import { hashPassword } from '../core/password.js';
import { checkArgText } from '../core/text-guard.js';
import type { Repos, ResourceRecord, Store, UserRecord } from '../store/types.js';
import { findResource } from './resources.js';

export interface UserView {
  login: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  hasPassword: boolean;
  /** A portal sign-in needs a password or an email for a one-time code. */
  canSignIn: boolean;
  resources: string[];
  tokens: { serial: string; resource: string; state: string }[];
}

const LOGIN_RE = /^[\p{L}\p{N}._@+-]{1,128}$/u;
const PHONE_RE = /^\+?[0-9 ()./-]{3,32}$/;

export function checkLogin(login: string, where?: string): string {
  const l = login.trim();
  if (!LOGIN_RE.test(l))
    throw new DataError(`login '${login}' must be 1 to 128 letters, digits or . _ @ + -`, { code: 'bad-login', where });
  return l;
}

export function checkEmail(email: string | undefined | null, where?: string): string | null {
  const e = email?.trim();
  if (!e) return null;
  if (!isEmailAddress(e))
    throw new DataError(`'${e}' is not an email address (name@example.org)`, { code: 'bad-email', where });
  return e;
}

export function checkPhone(phone: string | undefined | null, where?: string): string | null {
  const p = phone?.trim();
  if (!p) return null;
  if (!PHONE_RE.test(p))
    throw new DataError(`'${p}' is not a phone number (digits, spaces, + ( ) . / -)`, { code: 'bad-phone', where });
  return p;
}

export async function findUser(repos: Repos, login: string): Promise<UserRecord> {
  const u = await repos.users.findByLogin(login);
  if (!u) throw new NotFoundError(`no user '${login}' (add one with: tokensmith user add ${login} --resource <name>)`);
  return u;
}

export function canSignIn(u: UserRecord): boolean {
  return u.passwordHash !== null || u.email !== null;
}

export async function viewUser(repos: Repos, u: UserRecord): Promise<UserView> {
  const resources = await repos.users.resourcesOf(u.id);
  const tokens: UserView['tokens'] = [];
  for (const a of await repos.assignments.list({ userId: u.id })) {
    const t = await repos.tokens.get(a.tokenId);
    const r = await repos.resources.get(a.resourceId);
    if (t && r) tokens.push({ serial: t.serial, resource: r.name, state: t.state });
  }
  return {
    login: u.login,
    name: u.name,
    email: u.email,
    phone: u.phone,
    hasPassword: u.passwordHash !== null,
    canSignIn: canSignIn(u),
    resources: resources.map((r) => r.name),
    tokens,
  };
}

export async function listUsers(store: Store, filter: { resource?: string } = {}): Promise<UserView[]> {
  const resourceId = filter.resource ? (await findResource(store, filter.resource)).id : undefined;
  const users = await store.users.list({ resourceId });
  return Promise.all(users.map((u) => viewUser(store, u)));
}

export interface AddUserInput {
  login: string;
  name?: string;
  email?: string;
  phone?: string;
  /** Plain password; hashed here, never stored or shown as is. */
  password?: string;
  resources: string[];
}

export async function addUser(store: Store, input: AddUserInput): Promise<UserRecord> {
  const login = checkLogin(input.login);
  checkArgText(input.name ?? '', 'name', '--name');
  const email = checkEmail(input.email);
  const phone = checkPhone(input.phone);
  if (input.resources.length === 0) throw new UsageError('name the Resource the user belongs to: --resource <name>');
  const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;
  return store.transaction(async (tx) => {
    const resources = [];
    for (const name of input.resources) resources.push(await findResource(tx, name));
    if (await tx.users.findByLogin(login)) {
      throw new DataError(
        `user '${login}' already exists (to add them to another Resource: tokensmith user join ${login} --resource <name>)`,
        {
          code: 'duplicate-user',
        },
      );
    }
    return createUserWithin(tx, { login, name: input.name?.trim() || null, email, phone, passwordHash }, resources);
  });
}

/** Creates a user and its memberships inside a transaction (`addUser` and the CSV import share it). */
export async function createUserWithin(
  tx: Repos,
  u: { login: string; name: string | null; email: string | null; phone: string | null; passwordHash: string | null },
  resources: ResourceRecord[],
  source?: string,
): Promise<UserRecord> {
  const user = await tx.users.create(u);
  for (const r of resources) await tx.users.addToResource(user.id, r.id);
  await tx.audit.append({
    action: 'user.add',
    subject: `user:${user.login}`,
    // Whether a password is set, never the password or its hash.
    details: {
      email: user.email,
      phone: user.phone,
      hasPassword: user.passwordHash !== null,
      resources: resources.map((r) => r.name),
      ...(source ? { source } : {}),
    },
  });
  return user;
}

/** Adds an existing user to a Resource (join) or takes them out (leave; refused while they hold a token there). */
export async function setMembership(
  store: Store,
  login: string,
  resourceName: string,
  join: boolean,
): Promise<UserRecord> {
  return store.transaction(async (tx) => {
    const user = await findUser(tx, login);
    const r = await findResource(tx, resourceName);
    const member = await tx.users.isInResource(user.id, r.id);
    if (join === member) return user;
    if (!join && (await tx.assignments.byUserResource(user.id, r.id))) {
      throw new DataError(
        `user '${login}' holds a token in Resource '${r.name}': unassign it first (tokensmith unassign <serial>)`,
        { code: 'user-has-token' },
      );
    }
    if (join) await tx.users.addToResource(user.id, r.id);
    else await tx.users.removeFromResource(user.id, r.id);
    await tx.audit.append({
      action: join ? 'user.join' : 'user.leave',
      subject: `user:${user.login}`,
      details: { resource: r.name },
    });
    return user;
  });
}

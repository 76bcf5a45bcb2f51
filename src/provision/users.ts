/**
 * Users of Resources: add one, import many from CSV (all or nothing, with a
 * report per line), join and leave Resources. Passwords are hashed with
 * scrypt before they reach the store and are never shown.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError, NotFoundError, TokensmithError, UsageError } from '../core/errors.js';
import { hashPassword } from '../core/password.js';
import { checkArgText, checkDataText } from '../core/text-guard.js';
import type { Repos, ResourceRecord, Store, UserRecord } from '../store/types.js';
import { assignWithin } from './assign.js';
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
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE_RE = /^\+?[0-9 ()./-]{3,32}$/;

export function checkLogin(login: string, where?: string): string {
  const l = login.trim();
  if (!LOGIN_RE.test(l)) throw new DataError(`login '${login}' must be 1 to 128 letters, digits or . _ @ + -`, { code: 'bad-login', where });
  return l;
}

export function checkEmail(email: string | undefined | null, where?: string): string | null {
  const e = email?.trim();
  if (!e) return null;
  if (!EMAIL_RE.test(e)) throw new DataError(`'${e}' is not an email address`, { code: 'bad-email', where });
  return e;
}

export function checkPhone(phone: string | undefined | null, where?: string): string | null {
  const p = phone?.trim();
  if (!p) return null;
  if (!PHONE_RE.test(p)) throw new DataError(`'${p}' is not a phone number (digits, spaces, + ( ) . / -)`, { code: 'bad-phone', where });
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
      throw new DataError(`user '${login}' already exists (to add them to another Resource: tokensmith user join ${login} --resource <name>)`, {
        code: 'duplicate-user',
      });
    }
    return createUserWithin(tx, { login, name: input.name?.trim() || null, email, phone, passwordHash }, resources);
  });
}

async function createUserWithin(
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
    details: { email: user.email, phone: user.phone, hasPassword: user.passwordHash !== null, resources: resources.map((r) => r.name), ...(source ? { source } : {}) },
  });
  return user;
}

/** Adds an existing user to a Resource (join) or takes them out (leave; refused while they hold a token there). */
export async function setMembership(store: Store, login: string, resourceName: string, join: boolean): Promise<UserRecord> {
  return store.transaction(async (tx) => {
    const user = await findUser(tx, login);
    const r = await findResource(tx, resourceName);
    const member = await tx.users.isInResource(user.id, r.id);
    if (join === member) return user;
    if (!join && (await tx.assignments.byUserResource(user.id, r.id))) {
      throw new DataError(`user '${login}' holds a token in Resource '${r.name}': unassign it first (tokensmith unassign <serial>)`, { code: 'user-has-token' });
    }
    if (join) await tx.users.addToResource(user.id, r.id);
    else await tx.users.removeFromResource(user.id, r.id);
    await tx.audit.append({ action: join ? 'user.join' : 'user.leave', subject: `user:${user.login}`, details: { resource: r.name } });
    return user;
  });
}

// ---------- CSV ----------

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF; returns rows with their 1-based line numbers. */
export function parseCsvRows(text: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let rowHasData = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      rowHasData = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      rowHasData = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      fields.push(field);
      if (rowHasData || fields.some((f) => f !== '')) rows.push({ line: rowLine, fields });
      fields = [];
      field = '';
      rowHasData = false;
      line++;
      rowLine = line;
    } else {
      field += c;
      rowHasData = true;
    }
  }
  if (quoted) throw new DataError(`unterminated quoted field starting on line ${rowLine}`, { code: 'bad-csv', where: `line ${rowLine}` });
  fields.push(field);
  if (rowHasData || fields.some((f) => f !== '')) rows.push({ line: rowLine, fields });
  return rows;
}

/** Maps the header to column indexes; unknown or missing required columns are refused. */
export function csvHeader(row: { fields: string[] }, known: readonly string[], required: readonly string[], file: string): Map<string, number> {
  const cols = new Map<string, number>();
  row.fields.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    if (!known.includes(name)) throw new DataError(`${file}:1: unknown column '${h}': the columns are ${known.join(', ')}`, { code: 'bad-csv', where: `${file}:1` });
    if (cols.has(name)) throw new DataError(`${file}:1: column '${name}' appears twice`, { code: 'bad-csv', where: `${file}:1` });
    cols.set(name, i);
  });
  for (const r of required) {
    if (!cols.has(r)) throw new DataError(`${file}:1: the header has no '${r}' column (columns: ${known.join(', ')})`, { code: 'bad-csv', where: `${file}:1` });
  }
  return cols;
}

export interface LineError {
  where: string;
  message: string;
}

export interface UserImportReport {
  file: string;
  imported: number;
  failed: number;
  assigned: number;
  errors: LineError[];
  /** Logins imported with neither password nor email: they cannot sign in to a portal. */
  cannotSignIn: string[];
}

const USER_COLUMNS = ['login', 'name', 'email', 'phone', 'password', 'resources', 'token'] as const;

/** Thrown to roll the import back; carries the errors of the attempt that decided it. */
class RollBack extends Error {
  constructor(readonly errors: LineError[]) {
    super('rolled back');
  }
}

/**
 * Imports users from CSV (login, email, phone, password, resources, token).
 * All or nothing: one bad line and nothing is written; every bad line is
 * reported with its file:line. Resources are separated by ';' (or '|');
 * the token is assigned in the first Resource listed.
 */
export async function importUsers(store: Store, path: string, opts: { text?: string } = {}): Promise<UserImportReport> {
  const file = basename(path);
  let text: string;
  try {
    text = opts.text ?? (await readFile(path, 'utf8'));
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${(err as Error).message}`, { code: 'file-read', cause: err });
  }
  const rows = parseCsvRows(text);
  if (rows.length === 0) throw new DataError(`${file} is empty: the first line must be the header (${USER_COLUMNS.join(', ')})`, { code: 'bad-csv' });
  const cols = csvHeader(rows[0]!, USER_COLUMNS, ['login'], file);
  const get = (r: { fields: string[] }, c: (typeof USER_COLUMNS)[number]) => (cols.has(c) ? (r.fields[cols.get(c)!] ?? '').trim() : '');
  const report: UserImportReport = { file, imported: 0, failed: 0, assigned: 0, errors: [], cannotSignIn: [] };

  // Pass 1, outside the transaction: shape checks and password hashing (slow on purpose).
  const parsed: ParsedUser[] = [];
  const seen = new Map<string, number>();
  for (const r of rows.slice(1)) {
    const where = `${file}:${r.line}`;
    try {
      if (r.fields.length > cols.size) throw new DataError(`${r.fields.length} fields, the header has ${cols.size}`);
      const login = checkLogin(get(r, 'login'), where);
      if (seen.has(login)) throw new DataError(`login '${login}' already appears on line ${seen.get(login)}`);
      seen.set(login, r.line);
      const password = get(r, 'password');
      parsed.push({
        line: r.line,
        login,
        name: checkDataText(get(r, 'name'), 'name', 'name', where) || null,
        email: checkEmail(get(r, 'email'), where),
        phone: checkPhone(get(r, 'phone'), where),
        passwordHash: password ? await hashPassword(password) : null,
        resources: get(r, 'resources').split(/[;|,]/).map((s) => s.trim()).filter(Boolean),
        token: get(r, 'token'),
      });
    } catch (err) {
      report.errors.push({ where, message: (err as Error).message });
    }
  }

  // Pass 2, in one transaction: everything that needs the store. Any error rolls all of it back.
  const written = await writeImportedUsers(store, file, parsed, report.errors.length > 0);
  report.errors.push(...written.errors);
  if (report.errors.length > 0) {
    report.errors.sort((a, b) => Number(a.where.split(':').pop()) - Number(b.where.split(':').pop()));
    report.failed = report.errors.length;
    return report;
  }
  return { ...report, imported: written.imported, assigned: written.assigned, cannotSignIn: written.cannotSignIn };
}

type ParsedUser = { line: number; login: string; name: string | null; email: string | null; phone: string | null; passwordHash: string | null; resources: string[]; token: string };
type WrittenUsers = { imported: number; assigned: number; cannotSignIn: string[]; errors: LineError[] };

/** Writes the parsed users in one transaction; its counts come back as the function's value, since PostgreSQL may run it more than once. */
async function writeImportedUsers(store: Store, file: string, parsed: ParsedUser[], rollBackAnyway: boolean): Promise<WrittenUsers> {
  try {
    return await store.transaction(async (tx) => {
      const out: WrittenUsers = { imported: 0, assigned: 0, cannotSignIn: [], errors: [] };
      for (const p of parsed) {
        const where = `${file}:${p.line}`;
        try {
          if (await tx.users.findByLogin(p.login)) throw new DataError(`user '${p.login}' already exists`);
          const resources: ResourceRecord[] = [];
          for (const name of p.resources) resources.push(await findResource(tx, name));
          if (p.token && resources.length === 0) throw new DataError(`token ${p.token} needs a Resource to be assigned in: fill the resources column`);
          const user = await createUserWithin(tx, p, resources, where);
          if (p.token) {
            await assignWithin(tx, { serial: p.token, login: user.login, resource: resources[0]!.name });
            out.assigned++;
          }
          if (!canSignIn(user)) out.cannotSignIn.push(user.login);
          out.imported++;
        } catch (err) {
          if (!(err instanceof TokensmithError)) throw err;
          out.errors.push({ where, message: err.message });
        }
      }
      // Lines already refused before the transaction still undo the rest: all or nothing.
      if (out.errors.length > 0 || rollBackAnyway) throw new RollBack(out.errors);
      return out;
    });
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
    return { imported: 0, assigned: 0, cannotSignIn: [], errors: err.errors };
  }
}

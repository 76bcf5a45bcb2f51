/**
 * Users from CSV (login, name, email, phone, password, resources, token), all
 * or nothing. Apart from users.ts so that assign.ts can use findUser while
 * this file assigns tokens (users <-> assign would be an import cycle).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { csvHeader, parseCsvRows, type LineError } from '../core/csv.js';
import { DataError, TokensmithError } from '../core/errors.js';
import { hashPassword } from '../core/password.js';
import { checkDataText } from '../core/text-guard.js';
import type { Repos, ResourceRecord, Store, UserRecord } from '../store/types.js';
import { assignWithin } from './assign.js';
import { findResource } from './resources.js';
import { findToken } from './tokens.js';
import { canSignIn, checkEmail, checkLogin, checkPhone, createUserWithin } from './users.js';

export interface UserImportReport {
  file: string;
  imported: number;
  /** With --on-existing skip: users already in the store, left as they were; with update: updated. */
  skipped: number;
  updated: number;
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
export type OnExisting = 'fail' | 'skip' | 'update';

export async function importUsers(
  store: Store,
  path: string,
  opts: { text?: string; onExisting?: OnExisting } = {},
): Promise<UserImportReport> {
  const file = basename(path);
  let text: string;
  try {
    text = opts.text ?? (await readFile(path, 'utf8'));
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${(err as Error).message}`, { code: 'file-read', cause: err });
  }
  const rows = parseCsvRows(text);
  if (rows.length === 0)
    throw new DataError(`${file} is empty: the first line must be the header (${USER_COLUMNS.join(', ')})`, {
      code: 'bad-csv',
    });
  const cols = csvHeader(rows[0]!, USER_COLUMNS, ['login'], file);
  const get = (r: { fields: string[] }, c: (typeof USER_COLUMNS)[number]) =>
    cols.has(c) ? (r.fields[cols.get(c)!] ?? '').trim() : '';
  const report: UserImportReport = {
    file,
    imported: 0,
    skipped: 0,
    updated: 0,
    failed: 0,
    assigned: 0,
    errors: [],
    cannotSignIn: [],
  };

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
        resources: get(r, 'resources')
          .split(/[;|,]/)
          .map((s) => s.trim())
          .filter(Boolean),
        token: get(r, 'token'),
      });
    } catch (err) {
      report.errors.push({ where, message: (err as Error).message });
    }
  }

  // Pass 2, in one transaction: everything that needs the store. Any error rolls all of it back.
  const written = await writeImportedUsers(store, file, parsed, report.errors.length > 0, opts.onExisting ?? 'fail');
  report.errors.push(...written.errors);
  if (report.errors.length > 0) {
    report.errors.sort((a, b) => Number(a.where.split(':').pop()) - Number(b.where.split(':').pop()));
    report.failed = report.errors.length;
    return report;
  }
  const { errors: _none, ...counts } = written;
  return { ...report, ...counts };
}

type ParsedUser = {
  line: number;
  login: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  passwordHash: string | null;
  resources: string[];
  token: string;
};
type WrittenUsers = {
  imported: number;
  skipped: number;
  updated: number;
  assigned: number;
  cannotSignIn: string[];
  errors: LineError[];
};

/** `--on-existing update`: the line's non-empty fields over the user's, its Resources joined, its token assigned unless held. */
async function updateExisting(tx: Repos, user: UserRecord, p: ParsedUser, resources: ResourceRecord[], where: string) {
  const patch: Partial<Pick<UserRecord, 'name' | 'email' | 'phone' | 'passwordHash'>> = {};
  for (const k of ['name', 'email', 'phone', 'passwordHash'] as const) if (p[k] !== null) patch[k] = p[k];
  const updated = Object.keys(patch).length ? await tx.users.update(user.id, patch) : user;
  const joined: string[] = [];
  for (const r of resources)
    if (!(await tx.users.isInResource(user.id, r.id))) {
      await tx.users.addToResource(user.id, r.id);
      joined.push(r.name);
    }
  await tx.audit.append({
    action: 'user.edit',
    subject: `user:${user.login}`,
    details: { fields: Object.keys(patch).map((k) => (k === 'passwordHash' ? 'password' : k)), joined, source: where },
  });
  let assigned = false;
  const token = p.token ? await findToken(tx, p.token) : null;
  const holder = token ? await tx.assignments.byToken(token.id) : null;
  if (p.token && resources[0] && holder?.userId !== user.id) {
    await assignWithin(tx, { serial: p.token, login: user.login, resource: resources[0].name, via: where });
    assigned = true;
  }
  return { user: updated, assigned };
}

/** A new user from a line, with their Resources and, when the line names one, their token. */
async function createImported(tx: Repos, p: ParsedUser, resources: ResourceRecord[], where: string) {
  const user = await createUserWithin(tx, p, resources, where);
  const first = resources[0];
  if (p.token && first) await assignWithin(tx, { serial: p.token, login: user.login, resource: first.name });
  return { user, assigned: Boolean(p.token && first) };
}

/** Writes the parsed users in one transaction; its counts come back as the function's value, since PostgreSQL may run it more than once. */
async function writeImportedUsers(
  store: Store,
  file: string,
  parsed: ParsedUser[],
  rollBackAnyway: boolean,
  onExisting: OnExisting,
): Promise<WrittenUsers> {
  try {
    return await store.transaction(async (tx) => {
      const out: WrittenUsers = { imported: 0, skipped: 0, updated: 0, assigned: 0, cannotSignIn: [], errors: [] };
      for (const p of parsed) {
        const where = `${file}:${p.line}`;
        try {
          const existing = await tx.users.findByLogin(p.login);
          if (existing && onExisting === 'fail')
            throw new DataError(`user '${p.login}' already exists (re-import with --on-existing skip or update)`);
          if (existing && onExisting === 'skip') {
            out.skipped++;
            continue;
          }
          const resources: ResourceRecord[] = [];
          for (const name of p.resources) resources.push(await findResource(tx, name));
          if (p.token && resources.length === 0)
            throw new DataError(`token ${p.token} needs a Resource to be assigned in: fill the resources column`);
          const done = existing
            ? await updateExisting(tx, existing, p, resources, where)
            : await createImported(tx, p, resources, where);
          if (done.assigned) out.assigned++;
          if (!canSignIn(done.user)) out.cannotSignIn.push(done.user.login);
          if (existing) out.updated++;
          else out.imported++;
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
    return { imported: 0, skipped: 0, updated: 0, assigned: 0, cannotSignIn: [], errors: err.errors };
  }
}

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
import type { ResourceRecord, Store } from '../store/types.js';
import { assignWithin } from './assign.js';
import { findResource } from './resources.js';
import { canSignIn, checkEmail, checkLogin, checkPhone, createUserWithin } from './users.js';

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
  if (rows.length === 0)
    throw new DataError(`${file} is empty: the first line must be the header (${USER_COLUMNS.join(', ')})`, {
      code: 'bad-csv',
    });
  const cols = csvHeader(rows[0]!, USER_COLUMNS, ['login'], file);
  const get = (r: { fields: string[] }, c: (typeof USER_COLUMNS)[number]) =>
    cols.has(c) ? (r.fields[cols.get(c)!] ?? '').trim() : '';
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
  const written = await writeImportedUsers(store, file, parsed, report.errors.length > 0);
  report.errors.push(...written.errors);
  if (report.errors.length > 0) {
    report.errors.sort((a, b) => Number(a.where.split(':').pop()) - Number(b.where.split(':').pop()));
    report.failed = report.errors.length;
    return report;
  }
  return { ...report, imported: written.imported, assigned: written.assigned, cannotSignIn: written.cannotSignIn };
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
type WrittenUsers = { imported: number; assigned: number; cannotSignIn: string[]; errors: LineError[] };

/** Writes the parsed users in one transaction; its counts come back as the function's value, since PostgreSQL may run it more than once. */
async function writeImportedUsers(
  store: Store,
  file: string,
  parsed: ParsedUser[],
  rollBackAnyway: boolean,
): Promise<WrittenUsers> {
  try {
    return await store.transaction(async (tx) => {
      const out: WrittenUsers = { imported: 0, assigned: 0, cannotSignIn: [], errors: [] };
      for (const p of parsed) {
        const where = `${file}:${p.line}`;
        try {
          if (await tx.users.findByLogin(p.login)) throw new DataError(`user '${p.login}' already exists`);
          const resources: ResourceRecord[] = [];
          for (const name of p.resources) resources.push(await findResource(tx, name));
          if (p.token && resources.length === 0)
            throw new DataError(`token ${p.token} needs a Resource to be assigned in: fill the resources column`);
          const user = await createUserWithin(tx, p, resources, where);
          const first = resources[0];
          if (p.token && first) {
            await assignWithin(tx, { serial: p.token, login: user.login, resource: first.name });
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

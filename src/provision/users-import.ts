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

class RollBack extends Error {}

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
  type Parsed = { line: number; login: string; name: string | null; email: string | null; phone: string | null; passwordHash: string | null; resources: string[]; token: string };
  const parsed: Parsed[] = [];
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
        name: get(r, 'name') || null,
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
  try {
    await store.transaction(async (tx) => {
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
            report.assigned++;
          }
          if (!canSignIn(user)) report.cannotSignIn.push(user.login);
          report.imported++;
        } catch (err) {
          if (!(err instanceof TokensmithError)) throw err;
          report.errors.push({ where, message: err.message });
        }
      }
      if (report.errors.length > 0) throw new RollBack();
    });
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
  }
  if (report.errors.length > 0) {
    report.errors.sort((a, b) => Number(a.where.split(':').pop()) - Number(b.where.split(':').pop()));
    report.failed = report.errors.length;
    report.imported = 0;
    report.assigned = 0;
    report.cannotSignIn = [];
  }
  return report;
}

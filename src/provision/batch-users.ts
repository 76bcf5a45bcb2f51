/** The users a batch assigns its tokens to, one per token in order (`device flash --batch --users <csv>`). */
import { DataError } from '../core/errors.js';

/** Logins from a CSV with a `login` column (other columns are ignored), in file order. */
export async function readBatchUsers(path: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const { parseCsvRows } = await import('../core/csv.js');
  const rows = parseCsvRows(await readFile(path, 'utf8')).filter((r) => r.fields.some((f) => f.trim() !== ''));
  const col = rows[0]?.fields.findIndex((h) => h.trim().toLowerCase() === 'login') ?? -1;
  if (col < 0)
    throw new DataError(`${path}:1: no 'login' column; the users file needs a header line with login`, {
      code: 'bad-csv',
      where: `${path}:1`,
    });
  const logins = rows.slice(1).map((r) => ({ line: r.line, login: (r.fields[col] ?? '').trim() }));
  const empty = logins.find((l) => !l.login);
  if (empty)
    throw new DataError(`${path}:${empty.line}: empty login`, { code: 'bad-csv', where: `${path}:${empty.line}` });
  return logins.map((l) => l.login);
}

/**
 * When an export replaces the file at its -o path without asking: the file
 * is this store's own earlier export in the same format (each export's audit
 * row records its absolute path), or, for the users file, a file pam_oath
 * reads (the export merges pam_oath's counters from it: replacing it is the
 * designed case, from cron too). Any other file at that path needs --force
 * or a yes at the prompt, so a typo never replaces an unrelated file.
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { lstatOrNull } from '../core/safe-file.js';
import { parseUsersFileLine } from '../core/usersfile.js';
import type { Repos } from '../store/types.js';
import { USERSFILE_BANNER } from './usersfile.js';

/** Whether the file holds tokensmith's banner or a line of a type liboath reads (a broken line counts: the export then says what is wrong). */
function isUsersFile(text: string): boolean {
  if (text.includes(USERSFILE_BANNER)) return true;
  return text.split('\n').some((raw) => {
    try {
      return parseUsersFileLine(raw) !== null;
    } catch {
      return true;
    }
  });
}

/** Enough of a file to tell a users file (a huge unrelated file is not read whole). */
const HEAD_BYTES = 1024 * 1024;

async function headOf(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Whether an earlier export in this format wrote to exactly this path. */
async function exportedThereBefore(repos: Repos, format: string, path: string): Promise<boolean> {
  const rows = await repos.audit.list({ action: 'export', subject: `export:${format}` });
  return rows.some((r) => r.details.file === path);
}

/** True when `output` exists as a regular file that the export may replace without --force. */
export async function replaceableWithoutAsking(repos: Repos, format: string, output: string): Promise<boolean> {
  if (output === '-') return false;
  const path = resolve(output);
  const st = await lstatOrNull(path);
  if (!st?.isFile()) return false;
  if (format === 'usersfile' && isUsersFile(await headOf(path))) return true;
  return exportedThereBefore(repos, format.trim().toLowerCase(), path);
}

/**
 * The OATH Toolkit users file for pam_oath (format: src/core/usersfile.ts).
 * One line per assigned or enrolled token, keyed by the user's login, with
 * `# tokensmith serial <serial>` above it so that an import finds the serial.
 *
 * pam_oath writes the counter, the last accepted code and its time into the
 * file it reads. Exporting over such a file keeps that state for every line
 * whose token did not change (same login, type and seed), or a code already
 * used would be accepted again; lines of tokens that left the user are not
 * written again. A token liboath cannot represent is left out with the
 * reason, never written in a form it would read differently.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodeHex } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import {
  formatUsersFileLine,
  parseUsersFileLine,
  SERIAL_COMMENT,
  USERSFILE_MAX_SEED_BYTES,
  USERSFILE_STEPS,
  usersFileTypeOf,
  type UsersFileLine,
} from '../core/usersfile.js';
import { packageVersion } from '../core/version.js';
import type { ExportToken, FormatWriter } from './types.js';

/** The first line of every users file tokensmith writes (pam_oath keeps comment lines when it rewrites the file). */
export const USERSFILE_BANNER = '# OATH Toolkit users file for pam_oath, written by tokensmith';

/** The states of a token that someone signs in with. */
const SIGN_IN_STATES = new Set(['assigned', 'enrolled']);

interface PreviousFile {
  /** Lines by login, type and seed; the seed in the key never leaves this object. */
  lines: Map<string, UsersFileLine>;
  /** To see whether pam_oath rewrote the file while it was exported. */
  stamp: string | null;
}

const keyOf = (login: string, type: string, seedHex: string) => `${login}\t${type}\t${seedHex.toLowerCase()}`;

function fileStamp(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The users file already at the output path (pam_oath's state is in it), or none. */
export function readPreviousUsersFile(path: string): PreviousFile {
  const stamp = fileStamp(path);
  const lines = new Map<string, UsersFileLine>();
  if (stamp === null) return { lines, stamp };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DataError(
      `cannot read the users file ${path} to keep pam_oath's counters: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { code: 'output' },
    );
  }
  for (const [i, raw] of text.split('\n').entries()) {
    let line: UsersFileLine | null;
    try {
      line = parseUsersFileLine(raw);
    } catch (err) {
      throw new DataError(
        `${path}:${i + 1}: ${(err as Error).message}; fix or move the file before exporting over it (its counters would be lost)`,
        {
          code: 'bad-format',
          where: `${path}:${i + 1}`,
        },
      );
    }
    if (line) lines.set(keyOf(line.login, line.type, line.seedHex), line);
  }
  return { lines, stamp };
}

/** Why liboath cannot read this token as it is, or null. */
export function usersFileRefusal(t: ExportToken): string | null {
  const tok = t.token;
  if (!SIGN_IN_STATES.has(tok.state))
    return `state ${tok.state}: only assigned or enrolled tokens go into the users file`;
  if (!t.user) return 'not assigned to a user: each line of the users file is a login';
  if (t.user.length === 0 || /[\s\x00-\x1f]/.test(t.user))
    return `the login '${t.user}' holds white space or control characters, which split the fields of the users file`;
  if (tok.algorithm !== 'sha1')
    return `${tok.algorithm.toUpperCase()}: liboath computes HMAC-SHA1 only, so every code it checks would be wrong`;
  if (tok.type === 'totp' && !USERSFILE_STEPS.includes(tok.period))
    return `a ${tok.period} s time step: liboath reads 30 or 60 s only`;
  if (!usersFileTypeOf(tok.type, tok.digits, tok.period)) return `${tok.digits} digits: liboath reads 6, 7 or 8`;
  if (t.seed.length > USERSFILE_MAX_SEED_BYTES)
    return `a ${t.seed.length}-byte seed: liboath reads at most ${USERSFILE_MAX_SEED_BYTES} bytes`;
  return null;
}

export class UsersFileWriter implements FormatWriter {
  readonly encrypted = false;
  private previous: PreviousFile | null = null;
  private readonly written = new Set<string>();
  private kept = 0;

  /** `path`: where the file goes, which may already hold pam_oath's state. */
  private readonly path: string;
  constructor(output: string) {
    this.path = resolve(output);
  }

  refuse(t: ExportToken): string | null {
    return usersFileRefusal(t);
  }

  header(): string {
    this.previous = readPreviousUsersFile(this.path);
    return (
      `${USERSFILE_BANNER} ${packageVersion()}.\n` +
      '# type\tlogin\tpassword\tseed (hex)\tcounter\tlast code\tlast used (pam_oath writes the last three)\n'
    );
  }

  entry(t: ExportToken): string {
    const tok = t.token;
    const type = usersFileTypeOf(tok.type, tok.digits, tok.period)!;
    const seedHex = encodeHex(t.seed);
    const key = keyOf(t.user!, type, seedHex);
    this.written.add(key);
    const fresh = {
      type,
      login: t.user!,
      password: '-',
      seedHex,
      counter: tok.type === 'hotp' ? tok.counter : 0,
      lastCode: null,
      lastUsed: null,
    };
    const before = this.previous?.lines.get(key);
    const line =
      before && keepsState(before, tok.type, tok.counter)
        ? { ...fresh, counter: before.counter, lastCode: before.lastCode, lastUsed: before.lastUsed }
        : fresh;
    if (line !== fresh) this.kept++;
    return `${SERIAL_COMMENT}${tok.serial}\n${formatUsersFileLine(line)}`;
  }

  footer(): string {
    // pam_oath renames its own copy into place after each login, holding <file>.lock meanwhile: exporting over that would undo one or the other.
    if (existsSync(`${this.path}.lock`)) {
      throw new DataError(
        `${this.path}.lock exists: pam_oath is recording a login in ${this.path}; nothing was written: run the export again (if no login is under way, the lock file is left over from a crash: delete it)`,
        {
          code: 'output-changed',
        },
      );
    }
    if (this.previous && fileStamp(this.path) !== this.previous.stamp) {
      throw new DataError(
        `${this.path} changed while it was exported (pam_oath records each login in it); nothing was written: run the export again`,
        {
          code: 'output-changed',
        },
      );
    }
    return '';
  }

  notes(): string[] {
    const notes: string[] = [];
    if (this.kept > 0) notes.push(`kept pam_oath's counter and last code for ${this.kept} unchanged token(s)`);
    const dropped = [...(this.previous?.lines.entries() ?? [])]
      .filter(([k]) => !this.written.has(k))
      .map(([, l]) => l.login);
    if (dropped.length > 0)
      notes.push(
        `dropped ${dropped.length} line(s) of the previous file whose token is no longer assigned to that login or was reissued (logins: ${[...new Set(dropped)].join(', ')})`,
      );
    notes.push(
      'the users file holds the seeds in the clear: keep it mode 0600, owned by the user the login service runs as, and export over it when tokens change',
    );
    return notes;
  }
}

/**
 * Whether the line holds state pam_oath wrote (a last code) that still holds
 * for the token. It does unless the store's HOTP counter has moved past it
 * (a resync): the line's next counter is the last accepted one plus one.
 */
function keepsState(before: UsersFileLine, type: 'hotp' | 'totp' | 'dpw', storeCounter: number): boolean {
  if (before.counter === null || before.lastCode === null) return false;
  if (type === 'totp') return true;
  return storeCounter <= before.counter + 1;
}

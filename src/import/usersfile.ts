/**
 * The OATH Toolkit users file, as pam_oath uses it (format:
 * src/core/usersfile.ts), read back so a site moving from pam_oath keeps its
 * tokens and their counters. The serial comes from the `# tokensmith serial`
 * comment above a line (what tokensmith's export writes); a line without one
 * gets `usersfile-<login>-<n>` (its n-th token in the file), stable as long
 * as the file keeps its order. The login is kept as the attribute `user`; a
 * static password in the file is never taken over.
 */
import { decodeHex } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { parseUsersFileLine, SERIAL_COMMENT, type UsersFileLine } from '../core/usersfile.js';
import { buildRecord, itemOf } from './record.js';
import { lineWhere, readLines } from './text.js';
import type { ParseContext, ParseItem } from './types.js';

/** The next HOTP counter: pam_oath writes the counter of the last code it accepted. */
function nextCounter(l: UsersFileLine): number {
  if (l.counter === null) return 0;
  return l.counter + (l.lastCode !== null ? 1 : 0);
}

function recordOf(l: UsersFileLine, serial: string, where: string) {
  const attributes: Record<string, unknown> = { importedFrom: where, user: l.login, usersFileType: l.type };
  if (l.lastUsed !== null) attributes.lastUsed = l.lastUsed;
  // '-' none, '+' checked by another module; anything else is a static password in the clear.
  if (l.password !== '-' && l.password !== '+') attributes.usersFilePassword = 'a static password (not imported)';
  return buildRecord(
    {
      serial,
      type: l.step === 0 ? 'hotp' : 'totp',
      algorithm: 'sha1',
      digits: l.digits,
      period: l.step === 0 ? 30 : l.step,
      counter: l.step === 0 ? nextCounter(l) : 0,
      seed: decodeHex(l.seedHex, 'seed (hex)'),
      attributes,
    },
    where,
  );
}

export async function* parseUsersFile(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let serialAbove: string | null = null;
  const perLogin = new Map<string, number>();
  let rows = 0;
  for await (const { text, line } of readLines(file, ctx)) {
    const where = lineWhere(ctx, line);
    if (text.startsWith(SERIAL_COMMENT)) {
      serialAbove = text.slice(SERIAL_COMMENT.length).trim() || null;
      continue;
    }
    const first = text.trim().split(/[ \t]+/)[0] ?? '';
    if (first === '' || first.startsWith('#')) continue;
    const serial = serialAbove;
    serialAbove = null;
    rows++;
    yield itemOf(
      () => {
        const l = parseUsersFileLineAt(text, first);
        const n = (perLogin.get(l.login) ?? 0) + 1;
        perLogin.set(l.login, n);
        return recordOf(l, serial ?? `usersfile-${l.login}-${n}`, where);
      },
      where,
      serial ?? undefined,
    );
  }
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file holds no tokens`, { code: 'empty-file' });
}

/** A line liboath reads, or the reason it does not (it would skip an unknown type silently: an import says so). */
function parseUsersFileLineAt(text: string, first: string): UsersFileLine {
  let l: UsersFileLine | null;
  try {
    l = parseUsersFileLine(text);
  } catch (err) {
    throw new DataError((err as Error).message, { code: 'missing-column' });
  }
  if (!l) {
    // Name the field only when it looks like a type: a line that starts with its seed must not print it.
    const named = /^[A-Za-z][\w/]{0,15}$/.test(first) ? `type '${first}'` : 'the first field';
    throw new DataError(
      `${named} is none that liboath reads (HOTP, HOTP/E[/6|7|8], HOTP/T30[/6|7|8], HOTP/T60[/6|7|8]), so pam_oath skips this line`,
      {
        code: 'unsupported-algorithm',
      },
    );
  }
  return l;
}

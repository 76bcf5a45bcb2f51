/**
 * The OATH Toolkit users file (liboath's usersfile.c, read by pam_oath):
 * one token per line, fields split by white space:
 *
 *   TYPE  LOGIN  PASSWORD  SEED-HEX  [COUNTER  [LAST-CODE  [LAST-USED]]]
 *
 * TYPE is one of the strings liboath 2.6 compares against (below), nothing
 * else: HOTP with 6, 7 or 8 digits, or TOTP with a 30 or 60 s step, always
 * HMAC-SHA1, and a seed of at most 32 bytes (liboath decodes it into a
 * 32-byte buffer). PASSWORD '-' means none, '+' checked elsewhere. pam_oath
 * writes COUNTER, LAST-CODE and LAST-USED (local time, "2026-01-31T12:00:00L")
 * back after each accepted code. A line whose first field is no known type
 * (a comment, say) is skipped by liboath and kept as it is when it rewrites
 * the file. Shared by the users file export and import.
 */

/** liboath reads the seed into a 32-byte buffer and refuses a longer one. */
export const USERSFILE_MAX_SEED_BYTES = 32;
export const USERSFILE_DIGITS: readonly number[] = [6, 7, 8];
export const USERSFILE_STEPS: readonly number[] = [30, 60];

export interface UsersFileType {
  digits: number;
  /** Time step in seconds, or 0 for an event (HOTP) token. */
  step: number;
}

/** The type strings exactly as liboath's parse_type accepts them. */
const TYPES = new Map<string, UsersFileType>();
for (const digits of USERSFILE_DIGITS) {
  TYPES.set(`HOTP/E/${digits}`, { digits, step: 0 });
  for (const step of USERSFILE_STEPS) TYPES.set(`HOTP/T${step}/${digits}`, { digits, step });
}
for (const [name, digits, step] of [
  ['HOTP', 6, 0],
  ['HOTP/E', 6, 0],
  ['HOTP/T30', 6, 30],
  ['HOTP/T60', 6, 60],
] as const)
  TYPES.set(name, { digits, step });

export function parseUsersFileType(field: string): UsersFileType | null {
  return TYPES.get(field) ?? null;
}

/** The type field for a token (its longest, explicit form), or null when liboath has none for it. */
export function usersFileTypeOf(type: 'hotp' | 'totp' | 'dpw', digits: number, period: number): string | null {
  // liboath knows no day password (DPW): its code is not an HOTP of any counter.
  if (type === 'dpw' || !USERSFILE_DIGITS.includes(digits)) return null;
  if (type === 'hotp') return `HOTP/E/${digits}`;
  return USERSFILE_STEPS.includes(period) ? `HOTP/T${period}/${digits}` : null;
}

export interface UsersFileLine {
  type: string;
  digits: number;
  step: number;
  login: string;
  password: string;
  seedHex: string;
  /** The moving factor pam_oath last wrote (HOTP: the counter of the last accepted code), or null when absent. */
  counter: number | null;
  /** The last accepted code, which pam_oath refuses to take again. */
  lastCode: string | null;
  /** When it was accepted, as pam_oath wrote it (local time). */
  lastUsed: string | null;
}

/** liboath's separators (strtok with " \t\r\n"). */
const FIELD_SPLIT = /[ \t\r\n]+/;

/**
 * One line as liboath reads it; null for a line it skips (blank, comment,
 * unknown type). Throws a plain Error naming the field for a line liboath
 * would stop at (no login or seed, a counter that is no number).
 */
export function parseUsersFileLine(text: string): UsersFileLine | null {
  const fields = text.split(FIELD_SPLIT).filter((f) => f !== '');
  const [typeField, login, password, seedHex, counter, lastCode, lastUsed] = fields;
  if (typeField === undefined) return null;
  const type = parseUsersFileType(typeField);
  if (!type) return null;
  if (login === undefined) throw new Error('the line has a type but no login');
  if (password === undefined || seedHex === undefined)
    throw new Error(`the line for '${login}' has no seed (type, login, password, seed)`);
  if (counter !== undefined && !/^\d+$/.test(counter))
    throw new Error(`the counter of '${login}' is not a whole number`);
  return {
    type: typeField,
    ...type,
    login,
    password,
    seedHex,
    counter: counter === undefined ? null : Number(counter),
    lastCode: lastCode ?? null,
    lastUsed: lastUsed ?? null,
  };
}

/** One line in the tab-separated form pam_oath itself writes; the state fields only when there is a counter. */
export function formatUsersFileLine(
  l: Pick<UsersFileLine, 'type' | 'login' | 'password' | 'seedHex' | 'counter' | 'lastCode' | 'lastUsed'>,
): string {
  const fields = [l.type, l.login, l.password, l.seedHex];
  if (l.counter !== null) {
    fields.push(String(l.counter));
    if (l.lastCode !== null) fields.push(l.lastCode, ...(l.lastUsed !== null ? [l.lastUsed] : []));
  }
  return fields.join('\t') + '\n';
}

/** The comment tokensmith writes above each line so that an import knows the serial again. */
export const SERIAL_COMMENT = '# tokensmith serial ';

/**
 * The people of a directory: person entries read into one shape, the members
 * of a group (AD's in-chain rule, the memberOf overlay, or the group entry's
 * member / memberUid values), a person found by login, and a password checked
 * by binding as that person. Every value put into a filter is escaped.
 */
import type { Entry } from 'ldapts';
import { DataError } from '../core/errors.js';
import type { DirectoryConfig } from './config.js';
import type { DirectoryConnection } from './client.js';
import { escapeFilterValue, normaliseDn } from './escape.js';

export interface DirectoryPerson {
  dn: string;
  login: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  disabled: boolean;
}

/** AD's userAccountControl ACCOUNTDISABLE bit. */
const ACCOUNTDISABLE = 0x2;

function first(e: Entry, attr: string): string | null {
  const key = Object.keys(e).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key === undefined ? undefined : e[key];
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return null;
  const s = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  return s === '' ? null : s;
}

function all(e: Entry, attr: string): string[] {
  const key = Object.keys(e).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key === undefined ? [] : e[key];
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

function disabledAttr(c: DirectoryConfig): string | null {
  if (c.disabled === 'ad-uac') return 'userAccountControl';
  if (c.disabled === 'ppolicy') return 'pwdAccountLockedTime';
  return c.disabled.startsWith('attr:') ? c.disabled.slice(5) : null;
}

/** The attributes a person is read with. */
export function personAttributes(c: DirectoryConfig): string[] {
  const extra = disabledAttr(c);
  return [c.loginAttr, c.emailAttr, c.phoneAttr, c.nameAttr, ...(extra ? [extra] : [])];
}

function isDisabled(c: DirectoryConfig, e: Entry): boolean {
  const attr = disabledAttr(c);
  if (!attr) return false;
  const v = first(e, attr);
  if (v === null) return false;
  if (c.disabled === 'ad-uac') return (Number(v) & ACCOUNTDISABLE) !== 0;
  return !/^(false|0|no)$/i.test(v);
}

/** A person entry in one shape; null when it has no login. */
export function personOf(c: DirectoryConfig, e: Entry): DirectoryPerson | null {
  const login = first(e, c.loginAttr);
  if (!login) return null;
  return {
    dn: e.dn,
    login,
    email: first(e, c.emailAttr),
    phone: first(e, c.phoneAttr),
    name: first(e, c.nameAttr),
    disabled: isDisabled(c, e),
  };
}

/** The filter of the person with this login: the value escaped (RFC 4515), so `*` or `)(` match nothing extra. */
export function loginFilter(c: DirectoryConfig, login: string): string {
  return `(&${c.userFilter}(${c.loginAttr}=${escapeFilterValue(login)}))`;
}

/** The members of a group, nested ones included where the server resolves them (AD in-chain). */
export async function groupMembers(
  conn: DirectoryConnection,
  groupDn: string,
  onPage?: (count: number) => void,
): Promise<DirectoryPerson[]> {
  const c = conn.config;
  const attrs = personAttributes(c);
  const people = (entries: Entry[]) => entries.map((e) => personOf(c, e)).filter((p) => p !== null);
  if (c.groups === 'in-chain' || c.groups === 'memberof') {
    const rule = c.groups === 'in-chain' ? 'memberOf:1.2.840.113556.1.4.1941:' : 'memberOf';
    return people(await conn.searchAll(`(&${c.userFilter}(${rule}=${escapeFilterValue(groupDn)}))`, attrs, { onPage }));
  }
  const group = await conn.read(groupDn, ['member', 'uniqueMember', 'memberUid']);
  if (!group) throw new GroupMissingError(conn.name, groupDn);
  const dns = new Set([...all(group, 'member'), ...all(group, 'uniqueMember')].map(normaliseDn));
  const uids = new Set(all(group, 'memberUid'));
  // One paged pass over every person; kept when the group names its DN (groupOfNames) or its login (posixGroup).
  const everyone = people(await conn.searchAll(c.userFilter, attrs, { onPage }));
  return everyone.filter((p) => dns.has(normaliseDn(p.dn)) || uids.has(p.login));
}

/** The linked group is not in the directory: a sync must not read that as "everyone left". */
export class GroupMissingError extends DataError {
  constructor(directory: string, groupDn: string) {
    super(`directory '${directory}' has no group ${groupDn}: check the DN linked with tokensmith resource link`, {
      code: 'directory-group-missing',
    });
  }
}

/** The one person with this login, or null (none, or more than one: ambiguous logins sign in nobody). */
export async function findPerson(conn: DirectoryConnection, login: string): Promise<DirectoryPerson | null> {
  const found = await conn.searchAll(loginFilter(conn.config, login), personAttributes(conn.config));
  if (found.length !== 1) return null;
  return personOf(conn.config, found[0]!);
}

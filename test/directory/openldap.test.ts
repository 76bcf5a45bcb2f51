// @module-tag daemon
/**
 * The directory client against a real OpenLDAP slapd on loopback: StartTLS and
 * ldaps under the test's CA (another CA's certificate refused), paging past the
 * server's size limit, groups, locked accounts, binds, and escaped logins.
 */
import { Client, SizeLimitExceededError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryUnavailableError, withConnection } from '../../src/directory/client.js';
import { directoryConfig, type DirectoryConfig } from '../../src/directory/config.js';
import { findPerson, groupMembers, loginFilter, personAttributes } from '../../src/directory/people.js';
import {
  destroySlapd,
  READER_DN,
  READER_PW,
  SIZE_LIMIT,
  slapdMissing,
  startSlapd,
  SUFFIX,
  type TestSlapd,
} from '../helpers/slapd.js';
import { makeCa } from '../helpers/tls-ca.js';

const skip = slapdMissing();
const PEOPLE = 130;

describe.skipIf(skip !== null)(`directory client on OpenLDAP${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let s: TestSlapd;
  let cfg: DirectoryConfig;
  beforeAll(async () => {
    const people = Array.from({ length: PEOPLE }, (_, i) => ({
      uid: `p${String(i).padStart(4, '0')}`,
      password: `pw-${i}`,
    }));
    people.push({ uid: 'admin', password: 'admin-pw' }, { uid: '\\00', password: 'nul-pw' });
    people.push({ uid: 'locked1', password: 'locked-pw', locked: true } as (typeof people)[number]);
    s = await startSlapd(people, { vpn: [...people.slice(0, 70).map((p) => p.uid), 'locked1'] });
    cfg = directoryConfig({
      preset: 'openldap',
      url: s.ldapUrl,
      starttls: true,
      caFile: s.ca.caFile,
      bindDn: READER_DN,
      baseDn: SUFFIX,
      pageSize: 40,
    });
  }, 60_000);
  afterAll(async () => {
    if (s) await destroySlapd(s);
  });

  it('the reader is held to the size limit without paging (the limit the paged search must get past)', async () => {
    const c = new Client({ url: s.ldapUrl });
    await c.bind(READER_DN, READER_PW);
    await expect(c.search(SUFFIX, { filter: '(objectClass=inetOrgPerson)' })).rejects.toBeInstanceOf(
      SizeLimitExceededError,
    );
    await c.unbind();
  });

  it('pages past the size limit over StartTLS and finds every member of a groupOfNames group', async () => {
    let pages = 0;
    const members = await withConnection('corp', cfg, async (c) => {
      await c.bindService(READER_PW);
      return groupMembers(c, `cn=vpn,ou=groups,${SUFFIX}`, () => pages++);
    });
    expect(members.length).toBe(71);
    expect(members.length).toBeGreaterThan(SIZE_LIMIT);
    expect(pages).toBeGreaterThan(1);
    expect(members.find((m) => m.login === 'locked1')?.disabled).toBe(true);
    expect(members.find((m) => m.login === 'p0000')).toMatchObject({ email: 'p0000@example.org', disabled: false });
  });

  it('a posixGroup names its members by memberUid', async () => {
    s.modify(
      `dn: cn=ops,ou=groups,${SUFFIX}\nchangetype: add\nobjectClass: posixGroup\ncn: ops\ngidNumber: 5000\nmemberUid: p0003\nmemberUid: p0100\nmemberUid: nobody-such\n`,
    );
    const members = await withConnection('corp', cfg, async (c) => {
      await c.bindService(READER_PW);
      return groupMembers(c, `cn=ops,ou=groups,${SUFFIX}`);
    });
    expect(members.map((m) => m.login).sort()).toEqual(['p0003', 'p0100']);
  });

  it('a group that is not in the directory is an error, never "no members"', async () => {
    const err = await withConnection('corp', cfg, async (c) => {
      await c.bindService(READER_PW);
      return groupMembers(c, `cn=gone,ou=groups,${SUFFIX}`);
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('directory-group-missing');
  });

  it('ldaps under the CA works; a server certificate from another CA is refused on ldaps and StartTLS', async () => {
    const ldaps = { ...cfg, url: s.ldapsUrl, starttls: false };
    await withConnection('corp', ldaps, (c) => c.bindService(READER_PW));
    const other = makeCa(s.dir, 'other');
    for (const bad of [
      { ...ldaps, caFile: other.caFile },
      { ...cfg, caFile: other.caFile },
    ]) {
      const err = await withConnection('corp', bad, (c) => c.bindService(READER_PW)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryUnavailableError);
      expect(String((err as Error).message)).toMatch(/certificate|self.signed|verify/i);
    }
  });

  it('binds as a person: the right password, a wrong one, an empty one (refused before binding)', async () => {
    await withConnection('corp', cfg, async (c) => {
      await c.bindService(READER_PW);
      const p = (await findPerson(c, 'p0001'))!;
      expect(await c.bind(p.dn, 'pw-1')).toBe(true);
      expect(await c.bind(p.dn, 'wrong')).toBe(false);
      expect(await c.bind(p.dn, '')).toBe(false);
      // ppolicy refuses a locked account's bind even with its password.
      await c.bindService(READER_PW);
      const locked = (await findPerson(c, 'locked1'))!;
      expect(locked.disabled).toBe(true);
      expect(await c.bind(locked.dn, 'locked-pw')).toBe(false);
    });
  });

  it('escapes logins in the filter: *, admin)(|(uid=* and \\00 match nothing extra', async () => {
    await withConnection('corp', cfg, async (c) => {
      await c.bindService(READER_PW);
      const attrs = personAttributes(cfg);
      // Unescaped, `*` would match every person and `admin)(|(uid=*` would not even parse.
      expect(await c.searchAll(loginFilter(cfg, '*'), attrs)).toEqual([]);
      expect(await c.searchAll(loginFilter(cfg, 'admin)(|(uid=*'), attrs)).toEqual([]);
      expect(await c.searchAll(loginFilter(cfg, 'p*'), attrs)).toEqual([]);
      // The login `\00` is the person whose uid is those three characters, not a NUL.
      const nul = await c.searchAll(loginFilter(cfg, '\\00'), attrs);
      expect(nul).toHaveLength(1);
      expect((await findPerson(c, '\\00'))?.login).toBe('\\00');
      expect((await findPerson(c, 'admin'))?.login).toBe('admin');
      expect(await findPerson(c, '*')).toBeNull();
    });
  });

  it('a stopped directory is unavailable, not a wrong password', async () => {
    await s.stop();
    try {
      const err = await withConnection('corp', cfg, (c) => c.bindService(READER_PW)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryUnavailableError);
    } finally {
      await s.start();
    }
  });
});

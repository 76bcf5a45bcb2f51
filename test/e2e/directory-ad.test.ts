/**
 * The directory against a real Active Directory: a Samba DC provisioned for the test on loopback, over ldaps and
 * StartTLS under the test's CA. sAMAccountName logins, a nested group (the in-chain rule), an account disabled in AD
 * (userAccountControl ACCOUNTDISABLE) that the sync disables and the portal refuses, sign-in by a bind as the user,
 * and escaped logins.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withConnection } from '../../src/directory/client.js';
import { directoryConfig } from '../../src/directory/config.js';
import { findPerson, loginFilter, personAttributes } from '../../src/directory/people.js';
import { signIn } from '../../src/provision/portal-signin.js';
import { openStore } from '../../src/store/index.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { AD_ADMIN_PW, AD_BASE, AD_REALM, sambaMissing, startSambaDc, type TestDc } from '../helpers/samba.js';

const skip = sambaMissing();
const USERS = `CN=Users,${AD_BASE}`;
/** Test-only passwords of a throw-away domain (AD wants three character classes). */
const pw = (login: string) => `${login}-Test-Pw1!`;
const FILLERS = Array.from({ length: 20 }, (_, i) => `staff${i}`);
const MASTER_KEY = '22'.repeat(32);

async function adminClient(dc: TestDc): Promise<Client> {
  const { readFileSync } = await import('node:fs');
  const c = new Client({ url: dc.ldapsUrl, tlsOptions: { ca: readFileSync(dc.ca.caFile) } });
  await c.bind(`Administrator@${AD_REALM}`, AD_ADMIN_PW);
  return c;
}

async function addUser(c: Client, login: string, opts: { mail?: string; disabled?: boolean } = {}): Promise<string> {
  const dn = `CN=${login},${USERS}`;
  const attr = (type: string, values: string[] | Buffer[]) => new Attribute({ type, values });
  await c.add(dn, [
    attr('objectClass', ['top', 'person', 'organizationalPerson', 'user']),
    attr('sAMAccountName', [login]),
    attr('userPrincipalName', [`${login}@${AD_REALM}`]),
    attr('displayName', [`Person ${login}`]),
    attr('mail', [opts.mail ?? `${login}@${AD_REALM}`]),
    // AD takes a password only as the quoted UTF-16LE string, over TLS.
    attr('unicodePwd', [Buffer.from(`"${pw(login)}"`, 'utf16le')]),
    attr('userAccountControl', [opts.disabled ? '514' : '512']),
  ]);
  return dn;
}

async function addGroup(c: Client, cn: string, members: string[]): Promise<string> {
  const dn = `CN=${cn},${USERS}`;
  await c.add(dn, { objectClass: ['top', 'group'], sAMAccountName: cn, member: members });
  return dn;
}

describe.skipIf(skip !== null)(`directory on a Samba AD DC${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dc: TestDc;
  let dir: string;
  let group: string;
  const env = () => ({ ...process.env, TOKENSMITH_DB: join(dir, 'store.db'), TOKENSMITH_MASTER_KEY: MASTER_KEY });
  const ok = async (...args: string[]) => {
    const r = await runCli(args, { env: env(), timeoutMs: 120_000 });
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'tokensmith-ad-'));
    dc = await startSambaDc();
    const c = await adminClient(dc);
    try {
      await addUser(c, 'tsreader');
      const members = [await addUser(c, 'carol'), await addUser(c, 'erin')];
      for (const f of FILLERS) members.push(await addUser(c, f));
      await addUser(c, 'gina', { disabled: true });
      members.push(`CN=gina,${USERS}`);
      const eng = await addGroup(c, 'vpn-eng', [await addUser(c, 'dave')]);
      group = await addGroup(c, 'vpn', [...members, eng]);
    } finally {
      await c.unbind();
    }
    writeFileSync(join(dir, 'bind.pw'), `${pw('tsreader')}\n`);
    await ok('resource', 'create', 'vpn');
  }, 300_000);
  afterAll(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the ad preset over ldaps: sAMAccountName logins, nested members through the in-chain rule, disabled ones left out', async () => {
    await ok(
      'directory',
      'add',
      'corp',
      '--preset',
      'ad',
      '--url',
      dc.ldapsUrl,
      '--ca-file',
      dc.ca.caFile,
      '--bind-dn',
      `CN=tsreader,${USERS}`,
      '--bind-password-file',
      join(dir, 'bind.pw'),
      '--base-dn',
      AD_BASE,
    );
    await ok('resource', 'link', 'vpn', '--directory', 'corp', '--group', group, '--on-leave', 'disable');
    const t = JSON.parse(await ok('--json', 'directory', 'test', 'corp', '--login', 'dave'));
    expect(t).toMatchObject({ tls: 'ldaps', login: { found: true, dn: `CN=dave,${USERS}`, disabled: false } });
    const rep = JSON.parse(await ok('--json', 'directory', 'sync', 'corp'))[0].resources[0];
    expect([...rep.added].sort()).toEqual(['carol', 'dave', 'erin', ...FILLERS].sort());
    expect(rep.added).not.toContain('gina');
    const store = await openStore({ db: join(dir, 'store.db'), env: env() });
    try {
      expect((await store.users.findByLogin('carol'))?.email).toBe(`carol@${AD_REALM}`);
    } finally {
      await store.close();
    }
  });

  it('signs a directory user in by a bind as that user; a wrong password is refused', async () => {
    const store = await openStore({ db: join(dir, 'store.db'), env: env() });
    try {
      const s = await signIn(store, { resource: 'vpn', login: 'dave', password: pw('dave') });
      expect(s.login).toBe('dave');
      await expect(signIn(store, { resource: 'vpn', login: 'carol', password: 'Wrong-Pw1!' })).rejects.toThrow(
        /sign-in to 'vpn' failed/,
      );
    } finally {
      await store.close();
    }
  });

  it('an account disabled in AD is disabled at the next sync and refused by the portal', async () => {
    const c = await adminClient(dc);
    try {
      await c.modify(
        `CN=erin,${USERS}`,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'userAccountControl', values: ['514'] }),
        }),
      );
    } finally {
      await c.unbind();
    }
    const rep = JSON.parse(await ok('--json', 'directory', 'sync', 'corp'))[0].resources[0];
    expect(rep.disabled).toEqual(['erin']);
    const store = await openStore({ db: join(dir, 'store.db'), env: env() });
    try {
      await expect(signIn(store, { resource: 'vpn', login: 'erin', password: pw('erin') })).rejects.toThrow(
        /sign-in to 'vpn' failed/,
      );
    } finally {
      await store.close();
    }
  });

  it('StartTLS works on AD too; logins *, admin)(|(uid=* and \\00 match nothing', async () => {
    const cfg = directoryConfig({
      preset: 'ad',
      url: dc.ldapUrl,
      starttls: true,
      caFile: dc.ca.caFile,
      bindDn: `tsreader@${AD_REALM}`,
      baseDn: AD_BASE,
    });
    await withConnection('corp', cfg, async (conn) => {
      await conn.bindService(pw('tsreader'));
      expect((await findPerson(conn, 'carol'))?.dn).toBe(`CN=carol,${USERS}`);
      for (const login of ['*', 'admin)(|(sAMAccountName=*', 'admin)(|(uid=*', '\\00', 'car*'])
        expect(await conn.searchAll(loginFilter(cfg, login), personAttributes(cfg))).toEqual([]);
    });
  });
});

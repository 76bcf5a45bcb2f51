/**
 * `tokensmith directory sync` against a real OpenLDAP slapd on loopback (StartTLS under the test's CA), on SQLite and
 * PostgreSQL: more people than the server's size limit, the report, unchanged re-syncs, a local user with the same
 * login (reported, not merged), a stopped directory and a cut-short result (nothing changed: users, tokens and audit
 * rows counted), the 10% guard and --force, leavers' tokens unassigned, a locked account disabled.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { createAssignment } from '../../src/provision/assign.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import {
  destroySlapd,
  READER_DN,
  READER_PW,
  slapdMissing,
  startSlapd,
  SUFFIX,
  type TestSlapd,
} from '../helpers/slapd.js';

const skip = slapdMissing();
const MEMBERS = 120;
const uid = (i: number) => `p${String(i).padStart(4, '0')}`;
const GROUP = `cn=vpn,ou=groups,${SUFFIX}`;
const MASTER_KEY = '11'.repeat(32);

function syncSuite(backend: 'sqlite' | 'postgres', pgSkip: string | null): void {
  const why = skip ?? pgSkip;
  describe.skipIf(why !== null)(`directory sync on ${backend}${why ? ` (skipped: ${why})` : ''}`, () => {
    let s: TestSlapd;
    let dir: string;
    let db: string;
    let pg: TestPostgres | undefined;
    const env = () => ({ ...process.env, TOKENSMITH_DB: db, TOKENSMITH_MASTER_KEY: MASTER_KEY, NO_COLOR: '1' });
    const cli = async (...args: string[]) => runCli(args, { env: env(), timeoutMs: 120_000 });
    const ok = async (...args: string[]) => {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const counts = async () => {
      const store = await openStore({ db, env: env() });
      try {
        const tokens = await store.tokens.list();
        return {
          users: (await store.users.list()).length,
          inVpn: (await store.users.list({ resourceId: (await store.resources.findByName('vpn'))!.id })).length,
          tokens: tokens.map((t) => `${t.serial}:${t.state}`).sort(),
          assignments: (await store.assignments.list()).length,
          audit: (await store.audit.list()).length,
        };
      } finally {
        await store.close();
      }
    };

    beforeAll(async () => {
      assertBuilt();
      dir = mkdtempSync(join(tmpdir(), 'tokensmith-dirsync-'));
      const people = Array.from({ length: MEMBERS + 10 }, (_, i) => ({ uid: uid(i), password: `pw-${i}` }));
      people.push({ uid: 'local1', password: 'x' });
      s = await startSlapd(people, { vpn: [...people.slice(0, MEMBERS).map((p) => p.uid), 'local1'] });
      if (backend === 'postgres') {
        pg = await startTestPostgres();
        db = await pg.createDatabase();
      } else db = join(dir, 'store.db');
      writeFileSync(join(dir, 'bind.pw'), `${READER_PW}\n`);
      await ok('resource', 'create', 'vpn');
      await ok('user', 'add', 'local1', '--resource', 'vpn', '--email', 'local1@example.org');
    }, 180_000);
    afterAll(async () => {
      if (s) await destroySlapd(s);
      await pg?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('adds a directory with a sealed bind password and links the Resource to a group', async () => {
      const r = await cli(
        'directory',
        'add',
        'corp',
        '--preset',
        'openldap',
        '--url',
        s.ldapUrl,
        '--starttls',
        '--ca-file',
        s.ca.caFile,
        '--bind-dn',
        READER_DN,
        '--bind-password',
        READER_PW,
        '--base-dn',
        SUFFIX,
        '--page-size',
        '30',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/--bind-password on the command line is visible/);
      await ok('directory', 'remove', 'corp');
      await ok(
        'directory',
        'add',
        'corp',
        '--url',
        s.ldapUrl,
        '--starttls',
        '--ca-file',
        s.ca.caFile,
        '--bind-dn',
        READER_DN,
        '--bind-password-file',
        join(dir, 'bind.pw'),
        '--base-dn',
        SUFFIX,
        '--page-size',
        '30',
      );
      const shown = await ok('--json', 'directory', 'show', 'corp');
      expect(shown).not.toContain(READER_PW);
      expect(JSON.parse(shown)).toMatchObject({ bindPassword: 'sealed', loginAttr: 'uid', starttls: true });
      await ok('resource', 'link', 'vpn', '--directory', 'corp', '--group', GROUP, '--on-leave', 'unassign');
      const t = JSON.parse(await ok('--json', 'directory', 'test', 'corp', '--login', uid(1)));
      expect(t).toMatchObject({
        bind: 'ok',
        tls: 'starttls',
        login: { found: true },
        groups: [{ members: MEMBERS + 1 }],
      });
    });

    it('a first sync pages past the size limit and adds every member; a local user with the same login is not merged', async () => {
      const rep = JSON.parse(await ok('--json', 'directory', 'sync', 'corp'))[0].resources[0];
      expect(rep.added).toHaveLength(MEMBERS);
      expect(rep.conflicts).toEqual(['local1']);
      expect(rep.left).toEqual([]);
      const text = await ok('directory', 'sync', 'corp');
      expect(text).toContain(`0 added, 0 updated, 0 disabled, 0 left, ${MEMBERS} unchanged`);
      expect(text).toMatch(/not merged: local1/);
      const c = await counts();
      expect(c.inVpn).toBe(MEMBERS + 1);
      // Give p0000 a token, so that leaving shows what happens to it.
      const store = await openStore({ db, env: env() });
      try {
        const vpn = (await store.resources.findByName('vpn'))!;
        const t = await store.tokens.insert({
          serial: 'DIR0001',
          kind: 'classic',
          type: 'totp',
          algorithm: 'sha1',
          digits: 6,
          period: 30,
          counter: 0,
          state: 'assigned',
          resourceId: vpn.id,
          seed: Buffer.alloc(20, 7),
        });
        await createAssignment(store, {
          tokenId: t.id,
          userId: (await store.users.findByLogin(uid(0)))!.id,
          resourceId: vpn.id,
        });
      } finally {
        await store.close();
      }
    });

    it('a sync against a stopped directory changes nothing', async () => {
      s.modify(`dn: ${GROUP}\nchangetype: modify\ndelete: member\nmember: uid=${uid(0)},ou=people,${SUFFIX}\n`);
      const before = await counts();
      await s.stop();
      try {
        const r = await cli('directory', 'sync', 'corp');
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/directory 'corp' is unavailable/);
      } finally {
        await s.start();
      }
      expect(await counts()).toEqual(before);
    });

    it('a sync whose result the server cuts short changes nothing', async () => {
      const before = await counts();
      await s.restartWithReaderLimits('size.prtotal=40');
      try {
        const r = await cli('directory', 'sync', 'corp');
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/search cut short/);
      } finally {
        await s.restartWithReaderLimits('');
      }
      expect(await counts()).toEqual(before);
    });

    it('the 10% guard refuses a sync that takes away too many users, naming the counts; --force passes it', async () => {
      const gone = Array.from({ length: 15 }, (_, i) => `member: uid=${uid(i + 1)},ou=people,${SUFFIX}`);
      s.modify(`dn: ${GROUP}\nchangetype: modify\ndelete: member\n${gone.join('\n')}\n`);
      const before = await counts();
      const r = await cli('directory', 'sync', 'corp');
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/vpn: 16 left and 0 disabled of 120 users \(13%\)/);
      expect(await counts()).toEqual(before);
      const rep = JSON.parse(await ok('--json', 'directory', 'sync', 'corp', '--force'))[0].resources[0];
      expect(rep.left).toHaveLength(16);
      expect(rep.tokens.unassigned).toEqual(['DIR0001']);
      const after = await counts();
      expect(after.inVpn).toBe(before.inVpn - 16);
      expect(after.assignments).toBe(0);
      expect(after.users).toBe(before.users);
    });

    it('a locked account is disabled at the next sync', async () => {
      s.modify(
        `dn: uid=${uid(50)},ou=people,${SUFFIX}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n`,
      );
      const rep = JSON.parse(await ok('--json', 'directory', 'sync', 'corp', '--dry-run'))[0];
      expect(rep).toMatchObject({ dryRun: true, resources: [{ disabled: [uid(50)] }] });
      const done = JSON.parse(await ok('--json', 'directory', 'sync', 'corp'))[0].resources[0];
      expect(done.disabled).toEqual([uid(50)]);
      const audit = await (async () => {
        const store = await openStore({ db, env: env() });
        try {
          return (await store.audit.list({ action: 'directory.user-disabled' })).map((a) => a.subject);
        } finally {
          await store.close();
        }
      })();
      expect(audit).toEqual([`user:${uid(50)}`]);
    });

    it('removing the directory keeps its users but takes them out of the linked Resources', async () => {
      const before = await counts();
      const r = JSON.parse(await ok('--json', 'directory', 'remove', 'corp'));
      expect(r.removedFromResources).toBe(before.inVpn - 1);
      const after = await counts();
      expect(after.users).toBe(before.users);
      expect(after.inVpn).toBe(1); // local1, who never came from the directory
      expect(after.tokens).toEqual(before.tokens);
    });
  });
}

syncSuite('sqlite', null);
syncSuite('postgres', skipPgReason());

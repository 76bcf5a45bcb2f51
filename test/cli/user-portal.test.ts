// @module-tag subprocess
/**
 * Issue 21 (7): one email syntax at every boundary: `user add --email` and a
 * CSV import refuse an address a mail header would split ("split,eve@..."),
 * as the portal's change-email does. Issue 21 (3): `user signout` from the
 * command line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPortalEmail } from '../../src/provision/portal-rules.js';
import { assertBuilt, tokensmith } from './helpers.js';

const BAD = ['split,eve@evil.example', 'a;b@example.org', '"x"@example.org', 'x <eve@evil.example>', 'x@-bad.example'];

describe('user commands and the portal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-cli-user-portal-'));
  const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };

  beforeAll(async () => {
    assertBuilt();
    expect((await tokensmith(['resource', 'create', 'vpn'], vars)).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('user add refuses every address the portal refuses, and takes a plain one', async () => {
    for (const [i, email] of BAD.entries()) {
      expect(() => checkPortalEmail(email), email).toThrow(/not an email address/);
      const r = await tokensmith(['user', 'add', `u${i}`, '--email', email, '--resource', 'vpn'], vars);
      expect(r.code, `${email}: ${r.stderr}`).toBe(4);
      expect(r.stderr).toMatch(/not an email address/);
    }
    expect(
      (
        await tokensmith(
          ['user', 'add', 'ok1', '--email', 'first.last+tag@mail.example.org', '--resource', 'vpn'],
          vars,
        )
      ).code,
    ).toBe(0);
  });

  it('a CSV import with such an address imports nothing and names the line', async () => {
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, 'login,email,resources\ncarol,carol@example.org,vpn\neve,"split,eve@evil.example",vpn\n');
    const r = await tokensmith(['user', 'import', csv], vars);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/users\.csv:3: .*not an email address/);
    expect((await tokensmith(['user', 'show', 'carol'], vars)).code).not.toBe(0);
  });

  it('user signout ends the sessions and says how many; --json has the counts', async () => {
    expect(
      (await tokensmith(['user', 'add', 'dan', '--email', 'dan@example.org', '--resource', 'vpn'], vars)).code,
    ).toBe(0);
    const r = await tokensmith(['user', 'signout', 'dan', '--resource', 'vpn'], vars);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ended 0 portal session\(s\) of dan in vpn/);
    const j = await tokensmith(['--json', 'user', 'signout', 'dan', '--forget-token'], vars);
    expect(JSON.parse(j.stdout)).toMatchObject({ login: 'dan', resource: null, sessionsEnded: 0, holdsDropped: 0 });
    expect((await tokensmith(['user', 'signout', 'nobody'], vars)).code).toBe(4);
  });
});

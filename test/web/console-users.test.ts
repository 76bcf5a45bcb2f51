// @module-tag daemon
/**
 * A user's page in the station console, in headless Chromium against the
 * built `tokensmith serve`: an email edited there leaves the store and audit
 * row `tokensmith user edit` leaves (the operator aside); remove asks first,
 * then revokes the user's token; a password reset ends the user's portal
 * session. The pages pass axe-core and are photographed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { AuditRecord, Store, UserRecord } from '../../src/store/types.js';
import { assertBuilt, cliEnv } from '../cli/helpers.js';
import { runCli } from '../helpers/cli.js';
import { TEST_SEEDS, base32 } from '../provision/helpers-ss.js';
import { SCREENSHOTS, chromiumMissing, launchChromium, type LaunchedBrowser } from './browser.js';
import { seriousViolations } from './console.js';
import { call, sessionCookie, startPortal } from './portal.js';
import { startServe, unnamedControls, type Served } from './serve.js';

const missing = chromiumMissing();

describe.skipIf(missing !== null)(`a user's page in the console${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-console-users-'));
  const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
  const env = cliEnv(vars);
  let served: Served;
  let browser: LaunchedBrowser;
  let page: Page;

  const cli = async (args: string[], input?: string): Promise<string> => {
    const r = await runCli(args, { env, input });
    expect(r.code, `tokensmith ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const withStore = async <T>(fn: (s: Store) => Promise<T>): Promise<T> => {
    const s = openSqliteStore({ path: vars.TOKENSMITH_DB, env: vars, operator: 'test' });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };
  const go = async (hash: string, ready: string) => {
    await page.evaluate((h) => (location.hash = h), hash);
    await page.waitForSelector(ready, { timeout: 15_000 });
  };
  const status = (id: string) => expect.poll(() => page.textContent(id), { timeout: 15_000 });
  const check = async (shot: string) => {
    expect(await seriousViolations(page), shot).toEqual([]);
    expect(await unnamedControls(page), shot).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, `${shot}.png`), fullPage: true });
  };

  beforeAll(async () => {
    assertBuilt();
    await cli(['resource', 'create', 'vpn', '--url', 'https://sso.example.com/vpn']);
    for (const login of ['cli-user', 'web-user', 'leaver', 'carol'])
      await cli(['user', 'add', login, '--resource', 'vpn', '--email', `${login}@example.com`, '--name', 'Old Name']);
    served = await startServe(env, ['--operator', 'Dana']);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(served.url);
    await page.waitForSelector('#inventory', { timeout: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an email edited in the console leaves the store and audit row `tokensmith user edit` leaves', async () => {
    await cli(['user', 'edit', 'cli-user', '--email', 'new@example.com']);
    await go('#/users/web-user', '#edit-user');
    await check('console-user-edit');
    await page.fill('#edit-email', 'new@example.com');
    await page.click('#edit-user-submit');
    await status('#user-status').toBe('Saved the changes to web-user.');
    expect(await page.textContent('#user-facts')).toContain('new@example.com');

    const [a, b] = await withStore(async (s) => {
      const one = async (login: string) => ({
        user: (await s.users.findByLogin(login))!,
        audit: (await s.audit.list({ subject: `user:${login}` })).filter((r) => r.action === 'user.edit'),
      });
      return [await one('cli-user'), await one('web-user')];
    });
    const record = (u: UserRecord) => {
      const { id: _i, login: _l, createdAt: _c, updatedAt: _u, ...rest } = u;
      return rest;
    };
    expect(record(b.user)).toEqual(record(a.user));
    expect(b.user.email).toBe('new@example.com');
    // The login is the one difference in the old email: each user's own, named L here.
    const row = (r: AuditRecord, login: string) => ({
      action: r.action,
      details: JSON.parse(JSON.stringify(r.details).replaceAll(login, 'L')) as unknown,
    });
    expect(b.audit.map((r) => row(r, 'web-user'))).toEqual(a.audit.map((r) => row(r, 'cli-user')));
    expect(b.audit).toHaveLength(1);
    expect(b.audit[0]!.details).toEqual({
      changes: { email: { from: 'web-user@example.com', to: 'new@example.com' } },
    });
    expect(b.audit[0]!.actor).toBe('station:Dana');
    expect(a.audit[0]!.actor.startsWith('station:')).toBe(false);
  }, 60_000);

  it('a bad email is tied to its field and nothing changes', async () => {
    await go('#/users/carol', '#edit-user');
    await page.fill('#edit-email', 'not an email');
    await page.click('#edit-user-submit');
    await expect.poll(() => page.getAttribute('#edit-email', 'aria-invalid'), { timeout: 15_000 }).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('edit-email');
    expect(await withStore(async (s) => (await s.users.findByLogin('carol'))!.email)).toBe('carol@example.com');
  });

  it('remove asks first; confirmed, the user is gone and their token revoked, the row naming the operator', async () => {
    await cli(['tokens', 'add', 'L-1', '--secret', base32(TEST_SEEDS.c1), '--resource', 'vpn', '--model', 'c200']);
    await cli(['assign', 'L-1', 'leaver', '--resource', 'vpn']);
    await go('#/users/leaver', '#remove-user');
    await page.click('#remove-user');
    expect(await page.isVisible('#remove-confirm')).toBe(true);
    expect(await page.textContent('#remove-question')).toContain('L-1');
    await check('console-user-remove-confirm');
    // Cancel keeps the user.
    await page.click('#remove-cancel');
    expect(await page.isVisible('#remove-confirm')).toBe(false);
    expect(await withStore(async (s) => (await s.users.findByLogin('leaver')) !== null)).toBe(true);

    await page.click('#remove-user');
    await page.click('#remove-yes');
    await status('#user-status').toBe('Removed leaver. Revoked L-1 (was assigned).');
    const after = await withStore(async (s) => ({
      user: await s.users.findByLogin('leaver'),
      token: (await s.tokens.findBySerial('L-1'))[0]!,
      rows: await s.audit.list({ subject: 'user:leaver' }),
      revoke: (await s.audit.list({ subject: 'token:L-1' })).find((r) => r.action === 'token.revoke'),
    }));
    expect(after.user).toBeNull();
    expect(after.token.state).toBe('revoked');
    expect(after.revoke?.actor).toBe('station:Dana');
    const removed = after.rows.find((r) => r.action === 'user.remove');
    expect(removed?.details).toEqual({ resources: ['vpn'], revoked: ['L-1'] });
    expect(removed?.actor).toBe('station:Dana');
  }, 60_000);

  it("a password reset ends the user's portal session", async () => {
    await cli(['user', 'reset-password', 'carol', '--password-stdin'], 'first horse 1\n');
    const portal = await startPortal(env);
    try {
      const signIn = await call(`${portal.origin}/api/r/vpn/signin`, {
        headers: { origin: portal.origin },
        body: { login: 'carol', password: 'first horse 1' },
      });
      expect(signIn.status, signIn.body).toBe(200);
      const cookie = sessionCookie(signIn)!;
      const me = () => call(`${portal.origin}/api/r/vpn/me`, { headers: { cookie, origin: portal.origin } });
      expect((await me()).status).toBe(200);

      await go('#/users/carol', '#reset-form');
      await check('console-user-reset');
      await page.fill('#reset-password', 'second horse 2');
      await page.click('#reset-submit');
      await status('#user-status').toBe('Set a new password for carol; 1 portal session(s) ended.');
      expect((await me()).status).toBe(401);
      const again = await call(`${portal.origin}/api/r/vpn/signin`, {
        headers: { origin: portal.origin },
        body: { login: 'carol', password: 'second horse 2' },
      });
      expect(again.status, again.body).toBe(200);
      const row = await withStore(async (s) =>
        (await s.audit.list({ subject: 'user:carol' })).filter((r) => r.action === 'user.reset-password').at(-1),
      );
      expect(row?.details).toEqual({ hasPassword: true, sessionsEnded: 1 });
      expect(row?.actor).toBe('station:Dana');
    } finally {
      await portal.stop();
    }
  }, 60_000);
});

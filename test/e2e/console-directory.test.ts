// @module-tag daemon
/**
 * Directory users in the station console, against a real OpenLDAP slapd and
 * headless Chromium: a directory user's page is read-only (no edit, no
 * password reset; a line naming the directory); "Sync now" on the Users page
 * runs `directory sync` and shows its report after a person left the group;
 * the 10% guard and a stopped directory are refused in words.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv } from '../cli/helpers.js';
import { runCli } from '../helpers/cli.js';
import {
  destroySlapd,
  READER_DN,
  READER_PW,
  slapdMissing,
  startSlapd,
  SUFFIX,
  type TestSlapd,
} from '../helpers/slapd.js';
import { SCREENSHOTS, chromiumMissing, launchChromium, type LaunchedBrowser } from '../web/browser.js';
import { seriousViolations } from '../web/console.js';
import { startServe, unnamedControls, type Served } from '../web/serve.js';

const missing = slapdMissing() ?? chromiumMissing();
const GROUP = `cn=vpn,ou=groups,${SUFFIX}`;
const uid = (i: number) => `d${String(i).padStart(2, '0')}`;
const member = (i: number) => `member: uid=${uid(i)},ou=people,${SUFFIX}`;

describe.skipIf(missing !== null)(`directory users in the console${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-console-directory-'));
  const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
  const env = cliEnv(vars);
  let s: TestSlapd;
  let served: Served;
  let browser: LaunchedBrowser;
  let page: Page;

  const cli = async (...args: string[]): Promise<string> => {
    const r = await runCli(args, { env, timeoutMs: 120_000 });
    expect(r.code, `tokensmith ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const go = async (hash: string, ready: string) => {
    await page.evaluate((h) => (location.hash = h), hash);
    await page.waitForSelector(ready, { timeout: 15_000 });
  };
  const syncNow = async () => {
    await go('#/users', '#sync-corp');
    await page.click('#sync-corp');
    await expect.poll(() => page.textContent('#sync-status-corp'), { timeout: 30_000 }).not.toMatch(/^Syncing|^$/);
    return page.textContent('#sync-status-corp');
  };
  const check = async (shot: string) => {
    expect(await seriousViolations(page), shot).toEqual([]);
    expect(await unnamedControls(page), shot).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, `${shot}.png`), fullPage: true });
  };

  beforeAll(async () => {
    assertBuilt();
    const people = Array.from({ length: 12 }, (_, i) => ({ uid: uid(i), password: `pw-${i}` }));
    s = await startSlapd(people, { vpn: people.map((p) => p.uid) });
    await cli('resource', 'create', 'vpn');
    await cli('user', 'add', 'local', '--resource', 'vpn', '--email', 'local@example.org');
    await cli(
      ...['directory', 'add', 'corp', '--url', s.ldapUrl, '--starttls', '--ca-file', s.ca.caFile],
      ...['--bind-dn', READER_DN, '--bind-password', READER_PW, '--base-dn', SUFFIX],
    );
    await cli('resource', 'link', 'vpn', '--directory', 'corp', '--group', GROUP, '--on-leave', 'disable');
    await cli('directory', 'sync', 'corp');
    served = await startServe(env, ['--operator', 'Dana']);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(served.url);
    await page.waitForSelector('#inventory', { timeout: 15_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    if (s) await destroySlapd(s);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a directory user is read-only: no edit, no password reset, a line naming the directory', async () => {
    await go(`#/users/${uid(1)}`, '#directory-line');
    expect(await page.textContent('#directory-line')).toMatch(new RegExp(`^${uid(1)} comes from the directory corp`));
    expect(await page.locator('#edit-user').count()).toBe(0);
    expect(await page.locator('#reset-form').count()).toBe(0);
    await check('console-user-directory');
    // The route refuses too, not only the page: the same request the page would send.
    const refused = await page.evaluate(async (login) => {
      const session = localStorage.getItem('tokensmith-station-session') ?? '';
      const r = await fetch(`/api/admin/users/${login}/reset-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
        body: JSON.stringify({ clear: true }),
      });
      return [r.status, ((await r.json()) as { error?: { message: string } }).error?.message];
    }, uid(1));
    expect(refused).toEqual([403, `${uid(1)} comes from the directory corp: reset their password there, not here`]);
    // A local user still has both.
    await go('#/users/local', '#edit-user');
    expect(await page.locator('#directory-line').count()).toBe(0);
  });

  it('Sync now shows the per-Resource report after a person left the group', async () => {
    s.modify(`dn: ${GROUP}\nchangetype: modify\ndelete: member\n${member(0)}\n`);
    expect(await syncNow()).toBe('Synced corp.');
    const cells = await page.$$eval('#sync-report-corp tbody td', (els) => els.map((e) => e.textContent));
    expect(cells).toEqual(['vpn', '0', '0', '0', `1: ${uid(0)}`, '11', '0']);
    await check('console-users-sync');
  }, 60_000);

  it('a sync over the 10% guard and one against a stopped directory are refused in words', async () => {
    s.modify(`dn: ${GROUP}\nchangetype: modify\ndelete: member\n${member(1)}\n${member(2)}\n`);
    expect(await syncNow()).toMatch(/^directory sync refused: it would take away more than 10% .*Nothing was changed/);
    expect(await page.locator('#sync-report-corp').count()).toBe(0);
    await s.stop();
    try {
      const said = await syncNow();
      expect(said).not.toBe('Synced corp.');
      expect(said!.length).toBeGreaterThan(10);
      expect(await page.getAttribute('#sync-status-corp', 'data-kind')).toBe('error');
    } finally {
      await s.start();
    }
  }, 90_000);
});

/**
 * A directory user in headless Chromium against the built `tokensmith portal`: signs in with the password the
 * OpenLDAP directory holds (a bind as that user; nothing stored), enrolls a token; after the account is locked in
 * the directory and a sync runs, the open session has ended and the same sign-in is refused. A directory that is
 * down answers 503 and counts no failure; a local user signs in beside directory users all along.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { assertBuilt, BIN, cliEnv, runCommand, tokensmith } from '../cli/helpers.js';
import {
  destroySlapd,
  READER_DN,
  READER_PW,
  slapdMissing,
  startSlapd,
  SUFFIX,
  type TestSlapd,
} from '../helpers/slapd.js';
import { chromiumMissing, launchChromium, type LaunchedBrowser } from '../web/browser.js';
import { call, startPortal, type PortalProcess } from '../web/portal.js';

const missing = slapdMissing() ?? chromiumMissing();
const SERIAL = '86596220000301';
/** Labelled test seed. */
const SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
/** Test-only directory passwords of a throw-away slapd. */
const CAROL_PW = 'carol directory pw';
const DAVE_PW = 'dave directory pw';

describe.skipIf(missing !== null)(`directory user in the portal${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-dirportal-'));
  const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
  let s: TestSlapd;
  let portal: PortalProcess;
  let browser: LaunchedBrowser;
  let page: Page;
  const cli = async (args: string[]) => {
    const r = await tokensmith(args, vars);
    if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const signInApi = (login: string, password: string) =>
    call(`${portal.origin}/api/r/vpn/signin`, { body: { login, password } });

  beforeAll(async () => {
    assertBuilt();
    const people = Array.from({ length: 30 }, (_, i) => ({ uid: `u${i}`, password: `pw-${i}` }));
    people.push({ uid: 'carol', password: CAROL_PW }, { uid: 'dave', password: DAVE_PW });
    s = await startSlapd(people, { vpn: people.map((p) => p.uid) });
    writeFileSync(join(dir, 'bind.pw'), `${READER_PW}\n`);
    await cli(['resource', 'create', 'vpn']);
    await cli(['resource', 'allow', 'vpn', '--actions', 'enroll', '--token-types', 'programmable']);
    await cli(['tokens', 'add', SERIAL, '--secret', SEED, '--kind', 'programmable', '--resource', 'vpn']);
    const add = await runCommand(
      process.execPath,
      [BIN, 'user', 'add', 'lena', '--password-stdin', '--resource', 'vpn'],
      {
        env: cliEnv(vars),
        input: 'local password 1\n',
      },
    );
    expect(add.code, add.stderr).toBe(0);
    await cli([
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
    ]);
    await cli(['resource', 'link', 'vpn', '--directory', 'corp', '--group', `cn=vpn,ou=groups,${SUFFIX}`]);
    expect(await cli(['directory', 'sync', 'corp'])).toContain('32 added');
    portal = await startPortal(cliEnv(vars));
    browser = await launchChromium();
    page = await browser.context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await portal?.stop();
    if (s) await destroySlapd(s);
    rmSync(dir, { recursive: true, force: true });
  });

  const signInPage = async (login: string, password: string) => {
    await page.goto(`${portal.origin}/r/vpn`);
    await page.fill('#login', login);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#password');
    await page.fill('#password', password);
    await page.keyboard.press('Enter');
  };

  it('a directory user signs in with the directory password (a wrong one is refused) and enrolls a token', async () => {
    await signInPage('carol', 'not the password');
    await expect.poll(() => page.getAttribute('#status', 'data-kind'), { timeout: 15_000 }).toBe('error');
    await page.fill('#password', CAROL_PW);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#action-enroll').count(), { timeout: 15_000 }).toBe(1);
    const code = execFileSync('oathtool', ['--totp', '-b', SEED], { encoding: 'utf8' }).trim();
    await page.fill('#serial', SERIAL);
    await page.fill('#code', code);
    await page.click('#action-enroll button[type=submit]');
    await expect.poll(() => page.textContent('#my-token'), { timeout: 15_000 }).toBe(`Token ${SERIAL}: enrolled.`);
    const store = await openStore({ db: vars.TOKENSMITH_DB, env: { ...process.env, ...vars } });
    try {
      const carol = (await store.users.findByLogin('carol'))!;
      expect(carol.passwordHash).toBeNull();
      const rows = await store.audit.list({ action: 'portal.signin' });
      expect(rows.at(-1)).toMatchObject({ subject: 'user:carol', details: { method: 'directory' } });
    } finally {
      await store.close();
    }
  });

  it('after the account is locked in the directory and a sync runs, the open session has ended and sign-in is refused', async () => {
    s.modify(
      `dn: uid=carol,ou=people,${SUFFIX}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n`,
    );
    const rep = JSON.parse(await cli(['--json', 'directory', 'sync', 'corp']))[0].resources[0];
    expect(rep.disabled).toEqual(['carol']);
    expect(rep.sessionsEnded).toBe(1);
    await page.reload();
    await page.waitForSelector('#login', { timeout: 15_000 });
    expect(await page.locator('#my-token').count()).toBe(0);
    await signInPage('carol', CAROL_PW);
    await expect.poll(() => page.getAttribute('#status', 'data-kind'), { timeout: 15_000 }).toBe('error');
    expect(await page.locator('#action-enroll').count()).toBe(0);
    // The same words as an unknown login: nothing tells a disabled account apart.
    const [disabled, unknown] = [await signInApi('carol', CAROL_PW), await signInApi('nobody-here', CAROL_PW)];
    expect(disabled.status).toBe(unknown.status);
    // Only the count of tries left differs (carol's page tries were counted too).
    const words = (a: typeof disabled) => a.json().error!.message.replace(/\d+ attempt/, 'N attempt');
    expect(words(disabled)).toBe(words(unknown));
  });

  it('the same lockout as local users: after 5 wrong directory passwords the right one is refused too', async () => {
    for (let i = 0; i < 5; i++) expect((await signInApi('u7', `wrong ${i}`)).status).toBe(403);
    const locked = await signInApi('u7', 'pw-7');
    expect(locked.status).toBe(403);
    expect(locked.json().error!.message).toMatch(/locked after 5 failed attempts/);
    // An empty password is refused before any bind (RFC 4513: it would be an anonymous bind).
    expect((await signInApi('u8', '')).status).toBe(403);
  });

  it('a directory that is down answers 503 and counts no failure; a local user still signs in', async () => {
    await s.stop();
    try {
      const r = await signInApi('dave', DAVE_PW);
      expect(r.status).toBe(503);
      expect(r.json().error!.message).toMatch(/directory does not answer/);
      expect(r.body).not.toContain('127.0.0.1');
      const store = await openStore({ db: vars.TOKENSMITH_DB, env: { ...process.env, ...vars } });
      try {
        const vpn = (await store.resources.findByName('vpn'))!;
        expect(await store.portal.attemptsOf(vpn.id, 'signin:dave')).toBeNull();
      } finally {
        await store.close();
      }
      expect((await signInApi('lena', 'local password 1')).status).toBe(200);
    } finally {
      await s.start();
    }
    expect((await signInApi('dave', DAVE_PW)).status).toBe(200);
  });
});

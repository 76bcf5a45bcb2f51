// @module-tag daemon
/**
 * The self-service page of a Resource in headless Chromium, against the built
 * `tokensmith portal` run as a process, by users who were never paired with a
 * station: sign in with a password, claim a programmable token with the code
 * it shows (computed here by oathtool; refused with a wrong one), and no
 * control for an action the Resource does not allow. On a second page a user
 * without a password signs in with a code mailed through a real SMTP server,
 * and a Web NFC double taps a card. The station is not reachable through it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, runCommand, BIN, tokensmith } from '../cli/helpers.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import { SCREENSHOTS, chromiumMissing, launchChromium, type LaunchedBrowser } from './browser.js';
import { startPortal, type PortalProcess } from './portal.js';
import { unnamedControls } from './serve.js';
import { toolsMissing } from '../helpers/tools.js';

const missing = chromiumMissing() ?? toolsMissing('the self-service page test', 'oathtool');
const SERIAL = '86596220000101';
const OTHER = '86596220000102';
/** Labelled test seeds of the two tokens. */
const SEEDS: Record<string, string> = {
  [SERIAL]: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  [OTHER]: 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU',
};

/** The token's current code as oathtool computes it: a tool we did not write. */
function codeOf(serial: string): string {
  return execFileSync('oathtool', ['--totp', '-b', SEEDS[serial]!], { encoding: 'utf8' }).trim();
}

/** The six-digit code in a mail as the SMTP server got it (quoted-printable soft breaks undone). */
function codeInMail(raw: string): string {
  const m = /is (\d{8})\./.exec(raw.replace(/=\r?\n/g, ''));
  if (!m) throw new Error(`no sign-in code in the mail:\n${raw.replace(/\d{8}/g, '########')}`);
  return m[1]!;
}

describe.skipIf(missing !== null)(`self-service page in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-ss-'));
  const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
  let portal: PortalProcess;
  let smtp: TestSmtp;
  let browser: LaunchedBrowser;
  let page: Page;

  const cli = async (args: string[]) => {
    const r = await tokensmith(args, vars);
    if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    assertBuilt();
    await cli(['resource', 'create', 'corp']);
    await cli(['resource', 'allow', 'corp', '--actions', 'enroll', '--token-types', 'programmable']);
    const add = await runCommand(
      process.execPath,
      [BIN, 'user', 'add', 'alice', '--password-stdin', '--resource', 'corp'],
      { env: cliEnv(vars), input: 'correct horse 1\n' },
    );
    expect(add.code, add.stderr).toBe(0);
    await cli(['resource', 'create', 'lab']);
    await cli([
      'resource',
      'allow',
      'lab',
      '--actions',
      'enroll,change-password,change-name',
      '--token-types',
      'programmable',
    ]);
    // Programmable tokens in the stock of each Resource (labelled test seeds).
    await cli(['tokens', 'add', SERIAL, '--secret', SEEDS[SERIAL]!, '--kind', 'programmable', '--resource', 'corp']);
    await cli(['tokens', 'add', OTHER, '--secret', SEEDS[OTHER]!, '--kind', 'programmable', '--resource', 'lab']);
    smtp = await startTestSmtp();
    portal = await startPortal(cliEnv(vars), ['--smtp-url', smtp.url]);
    browser = await launchChromium();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await portal?.stop();
    await smtp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the station is not there: / is a plain page without it; its API and assets answer 404', async () => {
    expect((await page.goto(`${portal.origin}/`))!.status()).toBe(200);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.textContent('#index-note')).toMatch(/\/r\//);
    expect((await page.goto(`${portal.origin}/assets/station.js`))!.status()).toBe(404);
    await page.goto(`${portal.origin}/r/corp`);
    const statuses = await page.evaluate(async () =>
      Promise.all(
        ['/api/tokens', '/api/resources', '/api/import', '/ws'].map(
          async (p) => (await fetch(p, { method: p === '/api/import' ? 'POST' : 'GET' })).status,
        ),
      ),
    );
    expect(statuses).toEqual([404, 404, 404, 404]);
  });

  it('signs in with the password, never paired; shows only the allowed action', async () => {
    await page.goto(`${portal.origin}/r/corp`);
    expect(page.url()).toBe(`${portal.origin}/r/corp`);
    await page.fill('#login', 'alice');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#password');
    await page.screenshot({ path: join(SCREENSHOTS, 'selfservice-signin.png') });
    expect(await unnamedControls(page)).toEqual([]);
    await page.fill('#password', 'wrong password');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getAttribute('#status', 'data-kind'), { timeout: 15_000 }).toBe('error');
    expect(await page.locator('#my-token').count()).toBe(0);
    await page.fill('#password', 'correct horse 1');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.textContent('#my-token'), { timeout: 15_000 })
      .toBe('You have no token in this Resource yet.');
    expect(await page.locator('#action-enroll').count()).toBe(1);
    // Not allowed by corp: no form, no button.
    for (const action of ['unassign', 'synchronize', 'reissue', 'assign-existing', 'change-password', 'change-email'])
      expect(await page.locator(`#action-${action}`).count()).toBe(0);
    expect(await page.getByRole('button', { name: /unassign|synchronize|change/i }).count()).toBe(0);
    expect(await unnamedControls(page)).toEqual([]);
  });

  it('refuses a wrong code and leaves the token unclaimed', async () => {
    const good = codeOf(SERIAL);
    await page.fill('#serial', SERIAL);
    await page.fill('#code', good === '000000' ? '111111' : '000000');
    await page.click('#action-enroll button[type=submit]');
    await expect.poll(() => page.getAttribute('#status', 'data-kind'), { timeout: 15_000 }).toBe('error');
    expect(await page.textContent('#status')).toMatch(/code/);
    expect(JSON.parse(await cli(['tokens', 'show', SERIAL, '--json']))).toMatchObject({
      state: 'programmed',
      user: null,
      resource: 'corp',
    });
  });

  it('claims the token with the code it shows: the token becomes enrolled', async () => {
    await page.fill('#serial', SERIAL);
    await page.fill('#code', codeOf(SERIAL));
    await page.screenshot({ path: join(SCREENSHOTS, 'selfservice-claim.png'), fullPage: true });
    await page.focus('#code');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#my-token'), { timeout: 15_000 }).toBe(`Token ${SERIAL}: enrolled.`);
    await page.screenshot({ path: join(SCREENSHOTS, 'selfservice.png'), fullPage: true });
    expect(JSON.parse(await cli(['tokens', 'show', SERIAL, '--json']))).toMatchObject({
      state: 'enrolled',
      user: 'alice',
      resource: 'corp',
    });
    const audit = JSON.parse(await cli(['audit', 'list', '--json'])) as { action: string; actor: string }[];
    expect(audit.some((a) => a.actor === 'portal:alice' && /enroll/.test(a.action))).toBe(true);
    // Enrolled: nothing more to claim, and corp allows nothing else.
    expect(await page.locator('form.action').count()).toBe(0);
    expect(await page.textContent('#nothing-to-do')).toBe('Nothing to do here now.');
  });

  it('a sign-out the portal fails says so in the status line and stays signed in; the next one signs out', async () => {
    await page.evaluate(() => document.getElementById('status')!.setAttribute('data-kind', 'info'));
    await page.route('**/signout', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { message: 'the portal is restarting', code: 'failure' } }),
      }),
    );
    await page.click('#signout');
    await expect.poll(() => page.getAttribute('#status', 'data-kind'), { timeout: 15_000 }).toBe('error');
    expect(await page.textContent('#status')).toBe('the portal is restarting');
    expect(await page.textContent('#my-token')).toBe(`Token ${SERIAL}: enrolled.`);
    await page.unroute('**/signout');
    await page.click('#signout');
    await page.waitForSelector('#login', { timeout: 15_000 });
    expect(await page.locator('#my-token').count()).toBe(0);
  });

  it('signs in by a code mailed through SMTP; on a phone with Web NFC, tapping a card fills in its serial (an NDEFReader double plays the card)', async () => {
    const phone = await browser.context.newPage();
    try {
      await phone.addInitScript((serial) => {
        class FakeNdefReader extends EventTarget {
          async scan() {
            setTimeout(() => {
              const ev = new Event('reading') as Event & { serialNumber: string; message: unknown };
              ev.serialNumber = '04:a2:19:7c:33:5e:80';
              ev.message = {
                records: [
                  {
                    recordType: 'text',
                    encoding: 'utf-8',
                    data: new DataView(new TextEncoder().encode(`Token2 ${serial}`).buffer),
                  },
                ],
              };
              this.dispatchEvent(ev);
            }, 50);
          }
        }
        (window as unknown as { NDEFReader: unknown }).NDEFReader = FakeNdefReader;
      }, OTHER);
      await cli(['user', 'add', 'bob', '--resource', 'lab', '--email', 'bob@example.org']);
      await phone.goto(`${portal.origin}/r/lab`);
      await phone.fill('#login', 'bob');
      await phone.keyboard.press('Enter');
      await phone.waitForSelector('#email-code');
      expect(await phone.textContent('#signin')).toMatch(/A code was sent to b\*\*\*@example.org/);
      const mail = await smtp.waitFor('bob@example.org');
      expect(smtp.received.filter((m) => m.to.includes('bob@example.org'))).toHaveLength(1);
      expect(mail.raw).toMatch(/^Subject: .*lab/m);
      const emailed = codeInMail(mail.raw);
      await phone.fill('#email-code', emailed);
      await phone.keyboard.press('Enter');
      await phone.waitForSelector('#tap-card');
      // lab allows enroll, change-password and change-name: those forms, nothing else.
      expect(await phone.locator('form.action').evaluateAll((forms) => forms.map((f) => f.id))).toEqual([
        'action-enroll',
        'action-change-password',
        'action-change-name',
      ]);
      expect(await phone.textContent('#nfc-note')).toMatch(/cannot send the commands that program a token/);
      await phone.click('#tap-card');
      await expect.poll(() => phone.inputValue('#serial'), { timeout: 15_000 }).toBe(OTHER);
      expect(await phone.evaluate(() => document.activeElement?.id)).toBe('code');
      await phone.fill('#code', codeOf(OTHER));
      await phone.keyboard.press('Enter');
      await expect.poll(() => phone.textContent('#my-token'), { timeout: 15_000 }).toBe(`Token ${OTHER}: enrolled.`);
      expect(JSON.parse(await cli(['tokens', 'show', OTHER, '--json']))).toMatchObject({
        state: 'enrolled',
        user: 'bob',
        resource: 'lab',
      });
      expect(await phone.locator('form.action').evaluateAll((forms) => forms.map((f) => f.id))).toEqual([
        'action-change-password',
        'action-change-name',
      ]);
      // A first password needs no current one; the next change needs it (a wrong one is refused).
      const changePassword = async (current: string, next: string) => {
        await phone.fill('#current-password', current);
        await phone.fill('#new-password', next);
        await phone.click('#action-change-password button[type=submit]');
        await expect.poll(() => phone.getAttribute('#status', 'data-kind'), { timeout: 15_000 }).not.toBe('info');
        const kind = await phone.getAttribute('#status', 'data-kind');
        await phone.evaluate(() => document.getElementById('status')!.setAttribute('data-kind', 'info'));
        return kind;
      };
      await phone.evaluate(() => document.getElementById('status')!.setAttribute('data-kind', 'info'));
      expect(await changePassword('', 'bob first password')).toBe('ok');
      expect(await changePassword('not the password', 'bob second password')).toBe('error');
      expect(await changePassword('bob first password', 'bob second password')).toBe('ok');
      expect(await unnamedControls(phone)).toEqual([]);
    } finally {
      await phone.close();
    }
  });
});

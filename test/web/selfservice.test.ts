/**
 * The self-service page of a Resource in headless Chromium, against the built
 * `tokensmith serve`: sign in with a password, claim a programmable token with
 * the code it shows (refused with a wrong one), and no control for an action
 * the Resource does not allow. On a second page a Web NFC double taps a card.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, runCommand, BIN, tokensmith } from '../cli/helpers.js';
import { SCREENSHOTS, chromiumMissing, launchChromium, type LaunchedBrowser } from './browser.js';
import { startServe, unnamedControls, type Served } from './serve.js';

const missing = chromiumMissing();
const SERIAL = '86596220000101';
const OTHER = '86596220000102';

describe.skipIf(missing !== null)(`self-service page in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-ss-'));
  const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
  let served: Served;
  let browser: LaunchedBrowser;
  let page: Page;

  const cli = async (args: string[]) => {
    const r = await tokensmith(args, vars);
    if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const codeOf = async (serial: string) => JSON.parse(await cli(['tokens', 'code', serial, '--json'])).code as string;

  beforeAll(async () => {
    assertBuilt();
    await cli(['resource', 'create', 'corp']);
    await cli(['resource', 'allow', 'corp', '--actions', 'enroll', '--token-types', 'programmable']);
    const add = await runCommand(process.execPath, [BIN, 'user', 'add', 'alice', '--password-stdin', '--resource', 'corp'], { env: cliEnv(vars), input: 'correct horse 1\n' });
    expect(add.code, add.stderr).toBe(0);
    await cli(['resource', 'create', 'lab']);
    await cli(['resource', 'allow', 'lab', '--actions', 'enroll', '--token-types', 'programmable']);
    // Programmable tokens in the stock of each Resource (labelled test seeds).
    await cli(['tokens', 'add', SERIAL, '--secret', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', '--kind', 'programmable', '--resource', 'corp']);
    await cli(['tokens', 'add', OTHER, '--secret', 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU', '--kind', 'programmable', '--resource', 'lab']);
    served = await startServe(cliEnv(vars));
    browser = await launchChromium();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in with the password; shows only the allowed action', async () => {
    await page.goto(`${served.origin}/r/corp?pair=${new URL(served.url).searchParams.get('pair')}`);
    expect(page.url()).toBe(`${served.origin}/r/corp`);
    await page.fill('#login', 'alice');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#password');
    await page.screenshot({ path: join(SCREENSHOTS, 'selfservice-signin.png') });
    expect(await unnamedControls(page)).toEqual([]);
    await page.fill('#password', 'wrong password');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#status')).toMatch(/wrong password.*4 attempt\(s\) left/);
    await page.fill('#password', 'correct horse 1');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#my-token')).toBe('You have no token in this Resource yet.');
    expect(await page.locator('#action-enroll').count()).toBe(1);
    // Not allowed by corp: no form, no button.
    for (const action of ['unassign', 'synchronize', 'reissue', 'assign-existing', 'change-password', 'change-email']) expect(await page.locator(`#action-${action}`).count()).toBe(0);
    expect(await page.getByRole('button', { name: /unassign|synchronize|change/i }).count()).toBe(0);
    expect(await unnamedControls(page)).toEqual([]);
  });

  it('refuses a wrong code and leaves the token unclaimed', async () => {
    const good = await codeOf(SERIAL);
    await page.fill('#serial', SERIAL);
    await page.fill('#code', good === '000000' ? '111111' : '000000');
    await page.click('#action-enroll button[type=submit]');
    await expect.poll(() => page.textContent('#status')).toMatch(new RegExp(`is not a code of token ${SERIAL}.*attempt\\(s\\) left`));
    expect(await page.getAttribute('#status', 'data-kind')).toBe('error');
    expect(JSON.parse(await cli(['tokens', 'show', SERIAL, '--json']))).toMatchObject({ state: 'programmed', user: null, resource: 'corp' });
  });

  it('claims the token with the code it shows: the token becomes enrolled', async () => {
    await page.fill('#serial', SERIAL);
    await page.fill('#code', await codeOf(SERIAL));
    await page.screenshot({ path: join(SCREENSHOTS, 'selfservice-claim.png'), fullPage: true });
    await page.focus('#code');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#my-token')).toBe(`Token ${SERIAL}: enrolled.`);
    await page.screenshot({ path: join(SCREENSHOTS, 'selfservice.png'), fullPage: true });
    expect(JSON.parse(await cli(['tokens', 'show', SERIAL, '--json']))).toMatchObject({ state: 'enrolled', user: 'alice', resource: 'corp' });
    const audit = JSON.parse(await cli(['audit', 'list', '--json'])) as { action: string; actor: string }[];
    expect(audit.some((a) => a.actor === 'portal:alice' && /enroll/.test(a.action))).toBe(true);
    // Enrolled: nothing more to claim, and corp allows nothing else.
    expect(await page.locator('form.action').count()).toBe(0);
    expect(await page.textContent('#nothing-to-do')).toBe('Nothing to do here now.');
  });

  it('on a phone with Web NFC, tapping a card fills in its serial (an NDEFReader double plays the card)', async () => {
    const phone = await browser.context.newPage();
    try {
      await phone.addInitScript((serial) => {
        class FakeNdefReader extends EventTarget {
          async scan() {
            setTimeout(() => {
              const ev = new Event('reading') as Event & { serialNumber: string; message: unknown };
              ev.serialNumber = '04:a2:19:7c:33:5e:80';
              ev.message = { records: [{ recordType: 'text', encoding: 'utf-8', data: new DataView(new TextEncoder().encode(`Token2 ${serial}`).buffer) }] };
              this.dispatchEvent(ev);
            }, 50);
          }
        }
        (window as unknown as { NDEFReader: unknown }).NDEFReader = FakeNdefReader;
      }, OTHER);
      await cli(['user', 'add', 'bob', '--resource', 'lab', '--email', 'bob@example.org']);
      await phone.goto(`${served.origin}/r/lab`);
      await phone.fill('#login', 'bob');
      await phone.keyboard.press('Enter');
      await phone.waitForSelector('#email-code');
      expect(await phone.textContent('#signin')).toMatch(/A code was sent to b\*\*\*@example.org/);
      const mails = readdirSync(join(dir, 'outbox')).filter((f) => f.endsWith('.eml'));
      expect(mails).toHaveLength(1);
      const emailed = /is (\d{6})\./.exec(readFileSync(join(dir, 'outbox', mails[0]!), 'utf8'))![1]!;
      await phone.fill('#email-code', emailed);
      await phone.keyboard.press('Enter');
      await phone.waitForSelector('#tap-card');
      expect(await phone.textContent('#nfc-note')).toMatch(/cannot send the commands that program a token/);
      await phone.click('#tap-card');
      await expect.poll(() => phone.inputValue('#serial')).toBe(OTHER);
      expect(await phone.evaluate(() => document.activeElement?.id)).toBe('code');
      await phone.fill('#code', await codeOf(OTHER));
      await phone.keyboard.press('Enter');
      await expect.poll(() => phone.textContent('#my-token')).toBe(`Token ${OTHER}: enrolled.`);
      expect(JSON.parse(await cli(['tokens', 'show', OTHER, '--json']))).toMatchObject({ state: 'enrolled', user: 'bob', resource: 'lab' });
    } finally {
      await phone.close();
    }
  });
});

// @module-tag daemon
/**
 * The station's admin console in headless Chromium against the built
 * `tokensmith serve`: a Resource set up in the browser reads back the same
 * through `resource show` and the portal; users added and imported; assign,
 * unassign and resync from a token's page leave what the CLI leaves; the
 * drift report shows the offsets of simulated cards; every page passes
 * axe-core and is photographed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { generateCode } from '../../src/core/otp.js';
import { verifyDevice, syncDevice } from '../../src/provision/families/token2-nfc/device.js';
import { flashToken, parseFlashInput } from '../../src/provision/families/token2-nfc/flash.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { AuditRecord, Store, TokenRecord } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { UNSAVED_WARNING } from '../../src/web/client/admin-nav.js';
import { TOKEN_ACTIONS } from '../../src/store/types.js';
import { assertBuilt, cliEnv } from '../cli/helpers.js';
import { runCli } from '../helpers/cli.js';
import { TEST_SEEDS, base32, totp } from '../provision/helpers-ss.js';
import { SCREENSHOTS, chromiumMissing, launchChromium, type LaunchedBrowser } from './browser.js';
import { awayFromStepEdge, seriousViolations } from './console.js';
import { call, startPortal } from './portal.js';
import { startServe, tabOrder, unnamedControls, type Served } from './serve.js';

const missing = chromiumMissing();
const SEED = TEST_SEEDS.c1;

describe.skipIf(missing !== null)(`the station console in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-console-'));
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
  const cliJson = async <T = any>(args: string[]): Promise<T> => JSON.parse(await cli([...args, '--json'])) as T;
  /** The store the served process uses, opened here too (SQLite allows both). */
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
  const checkedBoxes = () =>
    page.$$eval('#resource-form input[type=checkbox]', (els) =>
      (els as HTMLInputElement[]).filter((e) => e.checked).map((e) => e.id),
    );

  beforeAll(async () => {
    assertBuilt();
    served = await startServe(env, ['--operator', 'Dana']);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(served.url);
    await page.waitForFunction(
      () => document.querySelector('#inventory-rows')?.textContent === 'No tokens match.',
      null,
      {
        timeout: 15_000,
      },
    );
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a Resource, switches on the Token All and one User action, saves; a reload shows the same', async () => {
    await page.click('#nav-resources');
    await page.waitForSelector('#create-resource');
    await page.fill('#new-resource', 'vpn');
    await page.fill('#new-resource-url', 'https://sso.example.com/vpn');
    await page.press('#new-resource-url', 'Enter');
    await page.waitForSelector('#resource-form');
    expect(page.url()).toBe(`${served.origin}/#/resources/vpn`);
    // Everything starts off.
    expect(await checkedBoxes()).toEqual([]);
    // Keyboard only: focus the Token group's All and press Space; the same for one User action.
    await page.focus('#all-token');
    await page.keyboard.press('Space');
    await page.focus('#action-change-email');
    await page.keyboard.press('Space');
    expect(await page.isVisible('#unsaved-note')).toBe(true);
    expect(await page.$eval('#all-actions', (e) => (e as HTMLInputElement).indeterminate)).toBe(true);
    await page.focus('#save');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.textContent('#save-status'), { timeout: 15_000 })
      .toBe(`Saved. allowed ${[...TOKEN_ACTIONS, 'change-email'].join(', ')}.`);
    expect(await page.isVisible('#unsaved-note')).toBe(false);

    await page.reload();
    await page.waitForSelector('#resource-form', { timeout: 15_000 });
    const expected = ['all-token', ...TOKEN_ACTIONS.map((a) => `action-${a}`), 'action-change-email'];
    expect(await checkedBoxes()).toEqual(expected);
    expect(await page.inputValue('#url')).toBe('https://sso.example.com/vpn');
    expect(await page.$eval('#all-user', (e) => (e as HTMLInputElement).indeterminate)).toBe(true);
  });

  it('`tokensmith resource show --json` reads back exactly that configuration', async () => {
    expect(await cliJson(['resource', 'show', 'vpn'])).toEqual({
      name: 'vpn',
      url: 'https://sso.example.com/vpn',
      lockAfter: 5,
      window: 2,
      syncWindow: 1000,
      actions: [...TOKEN_ACTIONS, 'change-email'],
      tokenTypes: [],
      users: 0,
      tokens: 0,
      assigned: 0,
    });
    const audit = await cliJson<AuditRecord[]>(['audit', 'list', '--subject', 'resource:vpn']);
    expect(audit.map((r) => [r.action, r.actor])).toEqual([
      ['resource.create', 'station:Dana'],
      ['resource.allow', 'station:Dana'],
    ]);
  });

  it('leaving with unsaved changes warns, and staying keeps them; saved, it leaves without a word', async () => {
    await page.focus('#action-change-name');
    await page.keyboard.press('Space');
    const dialogs: string[] = [];
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.click('#nav-users');
    await expect.poll(() => dialogs).toEqual([UNSAVED_WARNING]);
    expect(page.url()).toBe(`${served.origin}/#/resources/vpn`);
    expect(await page.isChecked('#action-change-name')).toBe(true);
    // Back to what was saved: no warning.
    await page.focus('#action-change-name');
    await page.keyboard.press('Space');
    await page.click('#nav-users');
    await page.waitForSelector('#add-user');
    expect(dialogs).toHaveLength(1);
  });

  it('Users: adds with a password or an email, ties a missing field to its error, imports a CSV with its bad lines shown', async () => {
    await page.fill('#add-login', 'alice');
    await page.fill('#add-password', 'correct horse 1');
    await page.selectOption('#add-resource', 'vpn');
    await page.click('#add-user-submit');
    await expect.poll(() => page.textContent('#add-status'), { timeout: 15_000 }).toBe('Added alice to vpn.');

    await page.fill('#add-login', 'carol');
    await page.check('#signin-email');
    await page.click('#add-user-submit');
    expect(await page.getAttribute('#add-email', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#add-email', 'aria-describedby')).toContain('add-email-error');
    expect(await page.textContent('#add-email-error')).toBe('Type the email the codes go to.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('add-email');
    await page.fill('#add-email', 'carol@example.org');
    await page.click('#add-user-submit');
    await expect.poll(() => page.textContent('#add-status'), { timeout: 15_000 }).toBe('Added carol to vpn.');

    const bad =
      'login,email,resources\ndave,dave@example.org,vpn\nbad login!,x@example.org,vpn\nerin,not-an-email,vpn\n';
    await page.setInputFiles('#users-csv', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.click('#import-users-submit');
    await expect
      .poll(() => page.locator('#users-import-errors li').allTextContents(), { timeout: 15_000 })
      .toEqual([
        expect.stringMatching(/^people\.csv:3: login 'bad login!'/),
        expect.stringMatching(/^people\.csv:4: 'not-an-email' is not an email/),
      ]);
    expect(await page.textContent('#users-import-result')).toBe(
      'Nothing imported: 2 line(s) of people.csv need fixing.',
    );
    const good = 'login,email,resources\ndave,dave@example.org,vpn\nerin,erin@example.org,vpn\n';
    await page.setInputFiles('#users-csv', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.click('#import-users-submit');
    await expect
      .poll(() => page.textContent('#users-import-result'), { timeout: 15_000 })
      .toBe('Imported 2 user(s), 0 token(s) assigned.');
    await page.fill('#user-search', 'erin@');
    await expect
      .poll(() => page.locator('#users tbody tr').allTextContents())
      .toEqual([expect.stringMatching(/^erin/)]);
    const users = await cliJson<{ login: string }[]>(['user', 'list', '--resource', 'vpn']);
    expect(users.map((u) => u.login).sort()).toEqual(['alice', 'carol', 'dave', 'erin']);
  });

  it("a user's page joins and leaves Resources", async () => {
    await cli(['resource', 'create', 'lab']);
    await go('#/users/alice', '#join-form');
    await page.selectOption('#join-resource', 'lab');
    await page.click('#join');
    await expect.poll(() => page.textContent('#user-status'), { timeout: 15_000 }).toBe('Joined lab.');
    expect((await cliJson(['user', 'show', 'alice'])).resources.sort()).toEqual(['lab', 'vpn']);
    await page.click('#leave-lab');
    await expect.poll(() => page.textContent('#user-status'), { timeout: 15_000 }).toBe('Left lab.');
    expect((await cliJson(['user', 'show', 'alice'])).resources).toEqual(['vpn']);
  });

  it('`tokensmith portal` then shows exactly those actions to a user of that Resource', async () => {
    const portal = await startPortal(env);
    try {
      const signIn = await call(`${portal.origin}/api/r/vpn/signin`, {
        headers: { origin: portal.origin },
        body: { login: 'alice', password: 'correct horse 1' },
      });
      expect(signIn.status, signIn.body).toBe(200);
      expect(signIn.json<{ actions: string[]; tokenTypes: string[] }>()).toMatchObject({
        actions: [...TOKEN_ACTIONS, 'change-email'],
        tokenTypes: [],
      });
      const other = await browser.context.newPage();
      await other.goto(`${portal.origin}/r/vpn`);
      await other.fill('#login', 'alice');
      await other.keyboard.press('Enter');
      await other.waitForSelector('#password');
      await other.fill('#password', 'correct horse 1');
      await other.keyboard.press('Enter');
      await other.waitForSelector('#action-change-email', { timeout: 15_000 });
      for (const a of ['change-password', 'change-phone', 'change-login', 'change-name'])
        expect(await other.locator(`#action-${a}`).count(), a).toBe(0);
      await other.close();
    } finally {
      await portal.stop();
    }
  });

  it('assign, unassign and resync from a token page leave the store and audit rows the CLI leaves', async () => {
    for (const serial of ['P-CLI', 'P-WEB'])
      await cli(['tokens', 'add', serial, '--secret', base32(SEED), '--resource', 'vpn', '--model', 'c200']);
    // CLI: assign to dave; console: assign to erin (one token per user per Resource).
    await cli(['assign', 'P-CLI', 'dave', '--resource', 'vpn']);
    await go('#/tokens/P-WEB', '#assign-form');
    await page.selectOption('#assign-resource', 'vpn');
    await page.fill('#assign-login', 'erin');
    await page.click('#assign');
    await expect
      .poll(() => page.textContent('#token-status'), { timeout: 15_000 })
      .toBe('Assigned to erin in vpn; now assigned.');
    await compareTokens(['dave', 'erin']);

    await cli(['unassign', 'P-CLI']);
    await page.click('#unassign');
    await expect
      .poll(() => page.textContent('#token-status'), { timeout: 15_000 })
      .toMatch(/^Taken back from erin; now in_stock\./);
    await compareTokens();

    // Both resyncs within one 30 s step, so both find the same drift.
    await awayFromStepEdge(15);
    const now = new Date();
    await cli(['tokens', 'resync', 'P-CLI', '--codes', `${totp(SEED, now, 3)},${totp(SEED, now, 4)}`]);
    await page.fill('#code1', totp(SEED, now, 3));
    await page.fill('#code2', totp(SEED, now, 4));
    await page.click('#resync');
    await expect
      .poll(() => page.textContent('#token-status'), { timeout: 15_000 })
      .toBe('Resynchronised: drift 0 → 4 step(s).');
    await compareTokens();
    // The history on the page is the token's audit rows.
    expect(await page.locator('#history tbody tr').count()).toBe(4);
    expect(await page.textContent('#history')).toContain('station:Dana');
  }, 120_000);

  /** P-CLI and P-WEB field by field (serial, ids, times and the user aside), and their audit rows (the actor aside). */
  async function compareTokens(users?: [string, string]): Promise<void> {
    const [a, b] = await withStore(async (s) => {
      const t = async (serial: string) => (await s.tokens.findBySerial(serial))[0]!;
      const rows = async (serial: string) => s.audit.list({ subject: `token:${serial}` });
      return [
        { token: await t('P-CLI'), view: await cliJson(['tokens', 'show', 'P-CLI']), audit: await rows('P-CLI') },
        { token: await t('P-WEB'), view: await cliJson(['tokens', 'show', 'P-WEB']), audit: await rows('P-WEB') },
      ];
    });
    const record = (t: TokenRecord) => {
      // Times differ between the two tokens by when each was moved.
      const { id: _i, serial: _s, createdAt: _c, updatedAt: _u, stateChangedAt: _sc, ...rest } = t;
      return rest;
    };
    expect(record(b!.token)).toEqual(record(a!.token));
    const view = (v: Record<string, unknown>, user?: string) => ({
      ...v,
      serial: 'S',
      user: v.user === user ? 'U' : v.user,
      ...('assignedAt' in v ? { assignedAt: typeof v.assignedAt } : {}),
      ...('lastStateChangeAt' in v ? { lastStateChangeAt: typeof v.lastStateChangeAt } : {}),
    });
    expect(view(b!.view, users?.[1])).toEqual(view(a!.view, users?.[0]));
    const row = (r: AuditRecord, serial: string, user?: string) => ({
      action: r.action,
      subject: r.subject.replace(serial, 'S'),
      details: {
        ...r.details,
        ...(r.details.user !== undefined ? { user: r.details.user === user ? 'U' : r.details.user } : {}),
      },
    });
    const userOf = (i: 0 | 1) => users?.[i] ?? (i === 0 ? 'dave' : 'erin');
    expect(b!.audit.map((r) => row(r, 'P-WEB', userOf(1)))).toEqual(a!.audit.map((r) => row(r, 'P-CLI', userOf(0))));
    expect(b!.audit.slice(1).every((r) => r.actor === 'station:Dana')).toBe(true);
    expect(a!.audit.every((r) => !r.actor.startsWith('station:'))).toBe(true);
  }

  it('a move the state machine refuses is said in words, and nothing changes', async () => {
    await page.click('#move-enable');
    await expect
      .poll(() => page.textContent('#token-status'), { timeout: 15_000 })
      .toMatch(/^Refused: cannot enable a token that is in_stock.*the allowed actions are: /);
    expect(await page.getAttribute('#token-status', 'role')).toBe('alert');
    expect((await cliJson(['tokens', 'show', 'P-WEB'])).state).toBe('in_stock');
    await page.fill('#move-reason', 'left on a train');
    await page.click('#move-lost');
    await expect
      .poll(() => page.textContent('#token-status'), { timeout: 15_000 })
      .toBe('Report it lost: in_stock → lost.');
  });

  it('the drift report shows the offsets of simulated cards, synced and verified, in the table and the chart', async () => {
    const skews: [string, 'token2-card' | 'token2-fob', number][] = [
      ['86596220000101', 'token2-card', -90],
      ['86596220000102', 'token2-card', 150],
      ['86596000000103', 'token2-fob', 40],
    ];
    await withStore(async (store) => {
      for (const [serial, model, skew] of skews) {
        let shift = 0;
        const sim = new Token2Simulator({ model, serial, now: () => Date.now() + shift });
        const transport = new MemoryTransport(sim);
        await flashToken(store, transport, parseFlashInput({}));
        // The card's clock now runs off by `skew` seconds, as a card left in a drawer does.
        shift = skew * 1000;
        const token = (await store.tokens.findBySerial(serial))[0]!;
        const code = generateCode(sim.heldSeed()!, token, { at: new Date(sim.clock() * 1000) });
        expect((await verifyDevice(store, transport, code)).ok).toBe(true);
        expect(Math.abs((await syncDevice(store, transport)).offsetBefore - skew)).toBeLessThanOrEqual(1);
      }
    });
    await go('#/reports', '#drift-tokens');
    const rows = await page.$$eval('#drift-tokens tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
    );
    const seconds = (text: string) => Number(text.replace('−', '-').replace(/[ +s]/g, ''));
    for (const [serial, , skew] of skews) {
      const row = rows.find((r) => r[0] === serial);
      expect(row, serial).toBeDefined();
      expect(Math.abs(seconds(row![2]!) - skew), `${serial} in the table: ${row![2]}`).toBeLessThanOrEqual(1);
      expect(row![3]).toBe('sync');
      expect(row![5]).toBe('2');
      expect(row![6]).toMatch(/^(0 s|[+−]1 s)$/);
      const bar = Number(await page.getAttribute(`#drift-chart rect[data-serial="${serial}"]`, 'data-seconds'));
      expect(Math.abs(bar - skew), `${serial} in the chart`).toBeLessThanOrEqual(1);
    }
    expect(await page.textContent('#drift-chart desc')).toMatch(/86596220000101 −(89|90|91) s/);
    const models = await page.$$eval('#drift-models tbody tr', (trs) =>
      trs.map((tr) => tr.querySelector('td')?.textContent),
    );
    // The classic tokens resynchronised 4 steps (of 30 s) ahead earlier: the resync rows count too.
    expect(models.sort()).toEqual(['OTPC-P2-i', 'c200', 'miniOTP-2-i']);
    for (const serial of ['P-CLI', 'P-WEB'])
      expect(rows.find((r) => r[0] === serial)?.slice(1, 4)).toEqual(['c200', '+120 s', 'resync']);
    const download = page.waitForEvent('download');
    await page.click('#drift-tokens-csv');
    const csv = readFileSync((await (await download).path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('serial,model,driftSeconds,seenBy,at,observations,correctedTo');
    for (const [serial] of skews) expect(csv).toContain(`${serial},`);
  });

  it('the other reports: tokens by state, model and Resource, and assigned but never enrolled with its age', async () => {
    await cli(['assign', 'P-CLI', 'dave', '--resource', 'vpn']);
    await page.reload();
    await page.waitForSelector('#not-enrolled-table', { timeout: 15_000 });
    expect(await page.locator('#not-enrolled-table tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^P-CLIdavevpn.*\D0$/),
    ]);
    const states = await page.$$eval('#tokens-by-state-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
    expect(states.sort()).toEqual(['assigned1', 'lost1', 'programmed3']);
    expect(await page.textContent('#tokens-by-resource-table')).toContain('vpn2');
    const download = page.waitForEvent('download');
    await page.click('#tokens-by-model-csv');
    const csv = readFileSync((await (await download).path())!, 'utf8');
    expect(csv).toBe('model,tokens\r\nc200,2\r\nOTPC-P2-i,2\r\nminiOTP-2-i,1\r\n');
  });

  it('Audit: filters, verifies the chain and downloads the rows as CSV', async () => {
    await go('#/audit', '#audit');
    await page.fill('#audit-actor', 'station:Dana');
    await page.fill('#audit-action', 'token.assign');
    await page.click('#audit-filter');
    await expect.poll(() => page.locator('#audit tbody tr').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.textContent('#audit tbody tr')).toContain('token:P-WEB');
    await page.click('#verify');
    await expect
      .poll(() => page.textContent('#verify-result'), { timeout: 15_000 })
      .toMatch(/^The audit chain is intact: \d+ rows/);
    const download = page.waitForEvent('download');
    await page.click('#audit-csv');
    const csv = readFileSync((await (await download).path())!, 'utf8').split('\r\n');
    expect(csv[0]).toBe('seq,at,actor,action,subject,details,hash');
    expect(csv.filter(Boolean)).toHaveLength(2);
    expect(csv[1]).toContain('station:Dana,token.assign,token:P-WEB');
  });

  it('the Readers section offers no WebHID control, and says in one line why not', async () => {
    await go('#/', '#readers-h');
    // This Chromium has WebHID (the old page offered the button on that alone); no family uses it.
    expect(await page.evaluate(() => 'hid' in navigator)).toBe(true);
    expect(await page.locator('#use-hid').count()).toBe(0);
    expect(await page.textContent('#hid-support')).toMatch(
      /^(No token family of this build is programmed over WebHID|WebHID)/,
    );
  });

  it('every console page passes axe-core (no serious or critical violation), names every control, and is photographed', async () => {
    const pages: [string, string, string][] = [
      ['#/', '#inventory', 'console-station'],
      ['#/resources', '#resources', 'console-resources'],
      ['#/resources/vpn', '#resource-form', 'console-resource'],
      ['#/users', '#users', 'console-users'],
      ['#/users/alice', '#memberships', 'console-user'],
      ['#/tokens', '#tokens', 'console-tokens'],
      ['#/tokens/P-WEB', '#history', 'console-token'],
      ['#/audit', '#audit', 'console-audit'],
      ['#/reports', '#drift-chart', 'console-reports'],
    ];
    // The check itself can fail: an input without a name is a critical violation.
    await go('#/audit', '#audit');
    await page.evaluate(() =>
      document.querySelector('#view')!.append(Object.assign(document.createElement('input'), { id: 'probe' })),
    );
    expect((await seriousViolations(page)).join('\n')).toMatch(/^label: .*#probe/m);
    for (const [hash, ready, shot] of pages) {
      await go(hash, ready);
      expect(await seriousViolations(page), hash).toEqual([]);
      expect(await unnamedControls(page), hash).toEqual([]);
      await page.screenshot({ path: join(SCREENSHOTS, `${shot}.png`), fullPage: true });
    }
  }, 120_000);

  it('the keyboard walks a Resource page in reading order, and arriving on a page focuses its heading', async () => {
    await page.click('#nav-resources');
    await page.waitForSelector('#resources');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('page-h');
    await go('#/resources/vpn', '#resource-form');
    await page.focus('#url');
    expect(await tabOrder(page, 5)).toEqual([
      'portal-address',
      'all-actions',
      'all-token',
      'action-enroll',
      'action-reissue',
    ]);
  });

  it('a limit the service refuses is tied to its field, which gets the focus; nothing is saved', async () => {
    await page.fill('#lockAfter', '0');
    await page.focus('#save');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.textContent('#save-status'), { timeout: 15_000 })
      .toMatch(/^Not saved: --lock-after must be a whole number from 1 to 100, got 0/);
    expect(await page.getAttribute('#lockAfter', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#lockAfter', 'aria-describedby')).toContain('lockAfter-error');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('lockAfter');
    expect(await page.isVisible('#unsaved-note')).toBe(true);
    expect((await cliJson(['resource', 'show', 'vpn'])).lockAfter).toBe(5);
  });
});

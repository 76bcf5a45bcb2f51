// @module-tag daemon
/**
 * Issue 21 (4), in headless Chromium as the red team did it: carol signs in to
 * the portal; a page of another service on another port of 127.0.0.1 (cookies
 * do not keep ports apart) plants mallory's session cookie, deeper in the path
 * or over carol's own; carol then claims a token with her code. The claim must
 * never land on mallory's account: two session cookies are refused, and an
 * action under another session than the page was loaded with is refused.
 */
import { createServer, type Server } from 'node:http';
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMailer } from '../../src/provision/mailer.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import { startPortalServer, type PortalServer } from '../../src/web/portal-server.js';
import { base32, memoryStore, TEST_SEEDS, totp } from '../provision/helpers-ss.js';
import { chromiumMissing, launchChromium, type LaunchedBrowser } from './browser.js';
import { call, sessionCookie } from './portal.js';

const missing = chromiumMissing();

/** Another local service whose page plants a cookie for 127.0.0.1: by script, or by its own Set-Cookie. */
function planter(cookie: () => string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/header') {
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': cookie() });
      res.end('<!doctype html><title>planted</title><p>planted by header</p>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>planter</title><script>document.cookie = ${JSON.stringify(cookie())};</script>`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` }),
    ),
  );
}

describe.skipIf(missing !== null)(
  `a planted portal cookie in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let store: Store;
    let portal: PortalServer;
    let browser: LaunchedBrowser;
    let plant = '';
    let neighbour: { server: Server; origin: string };

    beforeAll(async () => {
      store = memoryStore();
      await createResource(store, { name: 'vpn' });
      await setResourcePermissions(store, 'vpn', { allow: true, actions: ['enroll'], tokenTypes: 'programmable' });
      await addUser(store, { login: 'carol', password: 'carol password 1', resources: ['vpn'] });
      await addUser(store, { login: 'mallory', password: 'mallory password 1', resources: ['vpn'] });
      for (const [serial, seed] of [
        ['P1', TEST_SEEDS.p1],
        ['P2', TEST_SEEDS.p2],
      ] as const)
        await addToken(store, { serial, secret: base32(seed), kind: 'programmable', resource: 'vpn' });
      portal = await startPortalServer({ store, mailer: new OutboxMailer('/nonexistent-outbox') });
      neighbour = await planter(() => plant);
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((r) => neighbour?.server.close(r));
      await portal?.close();
      await store?.close();
    });

    /** mallory's session id, from a sign-in of her own. */
    async function mallorySession(): Promise<string> {
      const a = await call(`${portal.origin}/api/r/vpn/signin`, {
        body: { login: 'mallory', password: 'mallory password 1' },
      });
      return sessionCookie(a)!.split('=')[1]!;
    }

    async function carolSignsIn(page: Page): Promise<void> {
      await page.goto(`${portal.origin}/r/vpn`);
      await page.fill('#login', 'carol');
      await page.click('#signin-begin button[type=submit]');
      await page.fill('#password', 'carol password 1');
      await page.click('#signin button[type=submit]');
      await page.waitForFunction(() => /Signed in as carol/.test(document.getElementById('status')?.textContent ?? ''));
    }

    async function carolClaims(page: Page, serial: string, seed: Buffer): Promise<string> {
      await page.fill('#serial', serial);
      await page.fill('#code', totp(seed, new Date()));
      await page.evaluate(() => (document.getElementById('status')!.textContent = ''));
      await page.click('#action-enroll button[type=submit]');
      await page.waitForFunction(() => document.getElementById('status')?.textContent !== '');
      return (await page.textContent('#status')) ?? '';
    }

    const holderOf = async (serial: string) => {
      const t = (await store.tokens.findBySerial(serial))[0]!;
      const a = await store.assignments.byToken(t.id);
      return a ? (await store.users.get(a.userId))!.login : null;
    };

    it("a cookie planted deeper in the path by another port's script: the claim is refused, not enrolled to mallory", async () => {
      const page = await browser.context.newPage();
      await carolSignsIn(page);
      plant = `tokensmith_portal=${await mallorySession()}; Path=/api/r/vpn/actions`;
      const other = await browser.context.newPage();
      await other.goto(`${neighbour.origin}/`);
      const said = await carolClaims(page, 'P1', TEST_SEEDS.p1);
      expect(said).toMatch(/two portal session cookies/);
      expect(await holderOf('P1')).toBeNull();
      await page.close();
      await other.close();
      await browser.context.clearCookies();
    }, 60_000);

    it("carol's own cookie overwritten by another port's Set-Cookie: the action is refused, not done as mallory", async () => {
      const page = await browser.context.newPage();
      await carolSignsIn(page);
      plant = `tokensmith_portal=${await mallorySession()}; Path=/api/r/vpn; HttpOnly; SameSite=Strict`;
      const other = await browser.context.newPage();
      await other.goto(`${neighbour.origin}/header`);
      const cookies = (await browser.context.cookies(`${portal.origin}/api/r/vpn/me`)).filter(
        (c) => c.name === 'tokensmith_portal',
      );
      expect(cookies, "the plant replaced her cookie: one session cookie, mallory's").toHaveLength(1);
      const said = await carolClaims(page, 'P2', TEST_SEEDS.p2);
      expect(said).toMatch(/session changed since this page was loaded/);
      expect(await holderOf('P2')).toBeNull();
      await page.close();
      await other.close();
    }, 60_000);
  },
);

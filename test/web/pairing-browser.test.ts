// @module-tag daemon
/**
 * Pairing in headless Chromium against the built `tokensmith serve`: the page
 * asks for the operator, trades the printed code for a session secret kept in
 * its own origin's storage; another service on another port of 127.0.0.1
 * sees nothing that opens the station, and its cookies change nothing; after
 * pairing, nothing in the browser's history opens the station.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv } from '../cli/helpers.js';
import { CHROMIUM, chromiumMissing } from './browser.js';
import { startServe, type Served } from './serve.js';

const missing = chromiumMissing();
const SESSION_KEY = 'tokensmith-station-session';

/** Another local service: records what the browser sends it, and plants cookies for 127.0.0.1. */
function neighbour(): Promise<{ server: Server; origin: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, {
      'content-type': 'text/html',
      'set-cookie': [
        'tokensmith_pair=planted; Path=/',
        'tokensmith_session=planted; Path=/',
        '__Host-tokensmith=planted; Path=/',
      ],
    });
    res.end('<!doctype html><title>neighbour</title><p>another service</p>');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen }),
    ),
  );
}

/** Every value the neighbour saw in a Cookie header. */
function cookieValues(seen: IncomingHttpHeaders[]): string[] {
  return seen
    .flatMap((h) => (h.cookie ?? '').split(';').map((c) => c.split('=').slice(1).join('=').trim()))
    .filter(Boolean);
}

describe.skipIf(missing !== null)(`pairing in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-pairing-'));
  const profile = join(dir, 'profile');
  const env = cliEnv({ TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') });
  let served: Served;
  let context: BrowserContext;
  let page: Page;
  let other: Awaited<ReturnType<typeof neighbour>>;

  beforeAll(async () => {
    assertBuilt();
    served = await startServe(env);
    other = await neighbour();
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    other?.server.close();
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the pairing page asks who works here, cleans the address and opens the station', async () => {
    await page.goto(served.url);
    expect(page.url()).toBe(`${served.origin}/`);
    await page.waitForSelector('#operator');
    await page.fill('#operator', 'Carol');
    await page.click('#pair');
    await expect.poll(() => page.textContent('#inventory-rows'), { timeout: 15_000 }).toBe('No tokens match.');
    expect(await page.evaluate((k) => localStorage.getItem(k)?.length, SESSION_KEY)).toBe(43);
  });

  it('another service on another port of 127.0.0.1 gets nothing that opens the station, and its cookies change nothing', async () => {
    const second = await context.newPage();
    await second.goto(`${other.origin}/`);
    await second.goto(`${other.origin}/again`);
    // The session lives in the station origin's storage: a page of another port cannot read it.
    expect(await second.evaluate((k) => localStorage.getItem(k), SESSION_KEY)).toBeNull();
    await second.close();
    const values = cookieValues(other.seen);
    const headers = other.seen.flatMap((h) =>
      Object.values(h)
        .flat()
        .filter((v): v is string => typeof v === 'string'),
    );
    for (const v of [...values, ...headers]) {
      for (const h of [{ cookie: `tokensmith_pair=${v}` }, { authorization: `Bearer ${v}` }] as Record<
        string,
        string
      >[]) {
        expect(
          (await fetch(`${served.origin}/api/tokens`, { headers: h })).status,
          `replayed ${Object.keys(h)[0]}`,
        ).toBe(401);
      }
    }
    // The planted cookies now go to the station too; it still works for the paired page and for no one else.
    await page.reload();
    await expect.poll(() => page.textContent('#inventory-rows'), { timeout: 15_000 }).toBe('No tokens match.');
    expect(
      (
        await fetch(`${served.origin}/api/tokens`, {
          headers: { cookie: 'tokensmith_pair=planted; tokensmith_session=planted' },
        })
      ).status,
    ).toBe(401);
  });

  it('after pairing, nothing in the history opens the station: going back leaves it, the code the history holds is spent', async () => {
    await page.goBack();
    expect(page.url()).not.toMatch(/pair=/);
    const secret = await (async () => {
      await page.goto(`${served.origin}/`);
      return page.evaluate((k) => localStorage.getItem(k) ?? '', SESSION_KEY);
    })();
    await context.close();
    const history = join(profile, 'Default', 'History');
    expect(existsSync(history)).toBe(true);
    const urls = execFileSync('sqlite3', [history, 'SELECT url FROM urls'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(urls.some((u) => u.startsWith(served.origin))).toBe(true);
    for (const u of urls) {
      expect(u).not.toContain(secret);
      const code = new URL(u).searchParams.get('pair');
      if (code === null) continue;
      const again = await fetch(`${served.origin}/api/pair`, {
        method: 'POST',
        headers: { origin: served.origin, 'content-type': 'application/json' },
        body: JSON.stringify({ code, operator: 'Mallory' }),
      });
      expect(again.status, `the code in ${u}`).toBe(401);
      expect(
        (await fetch(`${served.origin}/api/tokens`, { headers: { authorization: `Bearer ${code}` } })).status,
      ).toBe(401);
      expect(
        (await fetch(`${served.origin}/api/tokens`, { headers: { cookie: `tokensmith_pair=${code}` } })).status,
      ).toBe(401);
    }
  });
});

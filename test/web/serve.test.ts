/**
 * `tokensmith serve` (built CLI): the printed link carries a pairing token;
 * requests and sockets without it, from another Origin, or to another Host
 * are refused; the link is swapped for a cookie.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, assertBuilt, cliEnv, runCommand } from '../cli/helpers.js';
import { startServe, type Served } from './serve.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-serve-'));
const env = cliEnv({ TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') });
let served: Served;
let token: string;

function socket(headers: Record<string, string>): Promise<{ opened: boolean; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${served.origin.replace('http', 'ws')}/ws`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      resolve({ opened: false, status: res.statusCode });
    });
    ws.once('error', () => resolve({ opened: false }));
  });
}

describe('tokensmith serve: pairing and origin', () => {
  beforeAll(async () => {
    assertBuilt();
    served = await startServe(env);
    token = new URL(served.url).searchParams.get('pair')!;
  });
  afterAll(async () => {
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a loopback link with a pairing token of 32 url-safe characters', () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?pair=[A-Za-z0-9_-]{32}$/);
  });

  it('refuses pages and API calls without the token', async () => {
    const page = await fetch(`${served.origin}/`);
    expect(page.status).toBe(401);
    expect(await page.text()).toMatch(/open the link that `tokensmith serve` printed/);
    const apiCall = await fetch(`${served.origin}/api/tokens`);
    expect(apiCall.status).toBe(401);
    expect((await fetch(`${served.origin}/api/tokens`, { headers: { cookie: 'tokensmith_pair=wrong' } })).status).toBe(401);
    expect((await fetch(`${served.origin}/?pair=wrong`)).status).toBe(401);
  });

  it('swaps the link for an HttpOnly SameSite=Strict cookie and a clean address; the cookie then opens pages and the API', async () => {
    const r = await fetch(served.url, { redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^tokensmith_pair=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    const pair = cookie.split(';')[0]!;
    const page = await fetch(`${served.origin}/`, { headers: { cookie: pair } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toMatch(/<script type="module" src="\/assets\/station.js">/);
    expect((await fetch(`${served.origin}/assets/station.js`, { headers: { cookie: pair } })).status).toBe(200);
    expect(await (await fetch(`${served.origin}/api/tokens`, { headers: { cookie: pair } })).json()).toEqual([]);
  });

  it('refuses another Origin, a POST without Origin, and another Host, even with the token', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const evil = await fetch(`${served.origin}/api/tokens`, { headers: { ...auth, origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    expect((await evil.json()).error.message).toMatch(/origin http:\/\/evil.example are refused/);
    const cookieOnlyPost = await fetch(`${served.origin}/api/import`, { method: 'POST', headers: { cookie: `tokensmith_pair=${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(cookieOnlyPost.status).toBe(403);
    // fetch may not set Host; node:http may (a DNS-rebinding page would arrive with its own name).
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(served.origin);
      request({ host: u.hostname, port: u.port, path: '/api/tokens', headers: { ...auth, host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end();
    });
    expect(rebound).toBe(421);
    const own = await fetch(`${served.origin}/api/tokens`, { headers: { ...auth, origin: served.origin } });
    expect(own.status).toBe(200);
  });

  it('opens the bridge socket only with the token and this server as Origin', async () => {
    expect(await socket({ origin: served.origin })).toMatchObject({ opened: false, status: 401 });
    expect(await socket({ origin: 'http://evil.example', cookie: `tokensmith_pair=${token}` })).toMatchObject({ opened: false, status: 403 });
    expect(await socket({ cookie: `tokensmith_pair=${token}` })).toMatchObject({ opened: false, status: 403 });
    expect(await socket({ origin: served.origin, cookie: `tokensmith_pair=${token}` })).toEqual({ opened: true });
  });

  it('a port in use is a usage error that says what to do', async () => {
    const port = new URL(served.origin).port;
    const r = await runCommand(process.execPath, [BIN, 'serve', '--port', port], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use .*give another --port`));
  });

  it('warns when told to listen beyond loopback', async () => {
    const wide = await startServe(env, ['--host', '0.0.0.0']);
    try {
      expect(wide.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?pair=/);
      expect(wide.stderr()).toMatch(/warning: listening on 0\.0\.0\.0: other computers on the network can reach this station/);
    } finally {
      await wide.stop();
    }
  });
});

// @module-tag daemon
/**
 * `tokensmith serve` (built CLI): the printed link carries a pairing code that
 * pairs one page once, for a session secret sent as a bearer header (or a
 * socket subprotocol); requests without it, from another Origin, without an
 * Origin where something changes, or to another Host are refused; every answer
 * carries the security headers; audit rows name the paired operator; SIGTERM
 * does not wait for an open socket.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, assertBuilt, cliEnv, runCommand, tokensmith } from '../cli/helpers.js';
import { pairSession, startServe, type Served } from './serve.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-serve-'));
const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
const env = cliEnv(vars);
let served: Served;
let session: string;

const SECURITY_HEADERS = ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'cache-control'];

function socket(
  origin: string,
  headers: Record<string, string>,
  protocols: string[] = [],
): Promise<{ opened: boolean; status?: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws`, protocols, { headers });
    ws.once('open', () => resolve({ opened: true, ws }));
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      resolve({ opened: false, status: res.statusCode });
    });
    ws.once('error', () => resolve({ opened: false }));
  });
}

/** node:http, because fetch will not send a Host of our choosing (a DNS-rebinding page arrives with its own name). */
function withHost(origin: string, host: string, headers: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const u = new URL(origin);
    request({ host: u.hostname, port: u.port, path: '/api/tokens', headers: { ...headers, host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
}

function importFigure2(s: Served, secret: string): Promise<Response> {
  const contentBase64 = readFileSync(join(ROOT, 'fixtures/seedfiles/rfc6030/figure2.xml')).toString('base64');
  return fetch(`${s.origin}/api/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, origin: s.origin, 'content-type': 'application/json' },
    body: JSON.stringify({ fileName: 'figure2.xml', contentBase64, onDuplicate: 'skip' }),
  });
}

describe('tokensmith serve: pairing and origin', () => {
  beforeAll(async () => {
    assertBuilt();
    served = await startServe(env, ['--operator', 'alice']);
    session = await pairSession(served);
  });
  afterAll(async () => {
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a loopback link with a pairing code of 32 url-safe characters', () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?pair=[A-Za-z0-9_-]{32}$/);
  });

  it('the code pairs once; the session secret, not the code nor a cookie, opens the API', async () => {
    const again = await fetch(`${served.origin}/api/pair`, {
      method: 'POST',
      headers: { origin: served.origin, 'content-type': 'application/json' },
      body: JSON.stringify({ code: served.code }),
    });
    expect(again.status).toBe(401);
    expect((await again.json()).error.message).toMatch(/was used already.*start it again for a new link/);
    expect((await fetch(`${served.origin}/api/tokens`)).status).toBe(401);
    expect(
      (await fetch(`${served.origin}/api/tokens`, { headers: { authorization: `Bearer ${served.code}` } })).status,
    ).toBe(401);
    expect(
      (await fetch(`${served.origin}/api/tokens`, { headers: { cookie: `tokensmith_pair=${served.code}` } })).status,
    ).toBe(401);
    const ok = await fetch(`${served.origin}/api/tokens`, { headers: { authorization: `Bearer ${session}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([]);
  });

  it('serves the page shell and its assets without a session (they hold no secret), with the CSP', async () => {
    const page = await fetch(`${served.origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toMatch(/<script type="module" src="\/assets\/station.js">/);
    expect((await fetch(`${served.origin}/assets/station.js`)).status).toBe(200);
  });

  it('a malformed cookie, a 404, an unknown asset and a broken JSON body get a 4xx with every security header', async () => {
    const answers = [
      await fetch(`${served.origin}/api/tokens`, { headers: { cookie: 'tokensmith_pair=%E0%A4%A' } }),
      await fetch(`${served.origin}/api/tokens`, {
        headers: { cookie: 'tokensmith_pair=%E0%A4%A', authorization: `Bearer ${session}` },
      }),
      await fetch(`${served.origin}/no/such/page`, { headers: { authorization: `Bearer ${session}` } }),
      await fetch(`${served.origin}/assets/nothing.js`),
      await fetch(`${served.origin}/api/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, origin: served.origin, 'content-type': 'application/json' },
        body: '{"broken',
      }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 200, 404, 404, 400]);
    for (const a of answers)
      for (const h of SECURITY_HEADERS) expect(a.headers.get(h), `${a.url} ${a.status} ${h}`).toBeTruthy();
  });

  it('the Origin rule holds with a bearer header too: another Origin, or none on a POST, is refused', async () => {
    const auth = { authorization: `Bearer ${session}` };
    const evil = await fetch(`${served.origin}/api/tokens`, { headers: { ...auth, origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    expect((await evil.json()).error.message).toMatch(/origin http:\/\/evil.example are refused/);
    const noOrigin = await fetch(`${served.origin}/api/import`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noOrigin.status).toBe(403);
    expect((await noOrigin.json()).error.message).toMatch(/must carry this server's Origin/);
    const pairNoOrigin = await fetch(`${served.origin}/api/pair`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(pairNoOrigin.status).toBe(403);
    expect((await fetch(`${served.origin}/api/tokens`, { headers: { ...auth, origin: served.origin } })).status).toBe(
      200,
    );
  });

  it('refuses another Host, even with the session', async () => {
    expect(await withHost(served.origin, 'attacker.example', { authorization: `Bearer ${session}` })).toBe(421);
    expect(
      await withHost(served.origin, `attacker.example:${new URL(served.origin).port}`, {
        authorization: `Bearer ${session}`,
      }),
    ).toBe(421);
    expect(await withHost(served.origin, new URL(served.origin).host, { authorization: `Bearer ${session}` })).toBe(
      200,
    );
  });

  it('opens the bridge socket only with the session and this server as Origin, bearer or not', async () => {
    const sub = ['tokensmith', `tokensmith-session.${session}`];
    expect(await socket(served.origin, { origin: served.origin })).toMatchObject({ opened: false, status: 401 });
    expect(await socket(served.origin, { origin: 'http://evil.example' }, sub)).toMatchObject({
      opened: false,
      status: 403,
    });
    expect(await socket(served.origin, {}, sub)).toMatchObject({ opened: false, status: 403 });
    expect(await socket(served.origin, { authorization: `Bearer ${session}` })).toMatchObject({
      opened: false,
      status: 403,
    });
    const ok = await socket(served.origin, { origin: served.origin }, sub);
    expect(ok.opened).toBe(true);
    expect(ok.ws!.protocol).toBe('tokensmith');
    ok.ws!.close();
  });

  it('audit rows of station actions name the operator given at start, not the OS user', async () => {
    const r = await importFigure2(served, session);
    expect(r.status, await r.clone().text()).toBe(200);
    const audit = JSON.parse((await tokensmith(['audit', 'list', '--json'], vars)).stdout) as {
      action: string;
      actor: string;
    }[];
    const rows = audit.filter(
      (a) => a.action.startsWith('token.') || a.action.startsWith('batch.') || a.action.startsWith('import'),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const a of rows) expect(a.actor).toBe('station:alice');
    expect(rows.map((a) => a.actor)).not.toContain(userInfo().username);
  });

  it('a port in use is a usage error that says what to do', async () => {
    const port = new URL(served.origin).port;
    const r = await runCommand(process.execPath, [BIN, 'serve', '--port', port], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use .*give another --port`));
  });

  it('a bad --operator is a usage error', async () => {
    const r = await runCommand(process.execPath, [BIN, 'serve', '--port', '0', '--operator', 'a\u0007b'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--operator: an operator name takes 1 to 64 letters/);
  });
});

describe('tokensmith serve: started without --operator, beyond loopback, stopped', () => {
  it('pairing asks for the operator; their name is in the audit rows', async () => {
    const s = await startServe(env);
    try {
      const noName = await fetch(`${s.origin}/api/pair`, {
        method: 'POST',
        headers: { origin: s.origin, 'content-type': 'application/json' },
        body: JSON.stringify({ code: s.code }),
      });
      expect(noName.status).toBe(400);
      expect((await noName.json()).error.code).toBe('operator-needed');
      const secret = await pairSession(s, 'Bob Builder');
      expect((await importFigure2(s, secret)).status).toBe(200);
      const audit = JSON.parse((await tokensmith(['audit', 'list', '--json'], vars)).stdout) as {
        action: string;
        actor: string;
      }[];
      expect(audit.at(-1)!.actor).toBe('station:Bob Builder');
    } finally {
      await s.stop();
    }
  });

  it('on 0.0.0.0 keeps a Host allow-list: loopback names and this machine’s addresses with the port; any other Host gets 421', async () => {
    const wide = await startServe(env, ['--host', '0.0.0.0', '--operator', 'alice']);
    try {
      expect(wide.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?pair=/);
      expect(wide.stderr()).toMatch(
        /warning: listening on 0\.0\.0\.0: other computers on the network can reach this station/,
      );
      const port = new URL(wide.origin).port;
      const secret = await pairSession(wide);
      const auth = { authorization: `Bearer ${secret}` };
      expect(await withHost(wide.origin, `attacker.example:${port}`, auth)).toBe(421);
      expect(await withHost(wide.origin, 'attacker.example', auth)).toBe(421);
      expect(await withHost(wide.origin, `127.0.0.1:${Number(port) + 1}`, auth)).toBe(421);
      expect(await withHost(wide.origin, `localhost:${port}`, auth)).toBe(200);
      const own = Object.values(networkInterfaces())
        .flat()
        .find((a) => a?.family === 'IPv4' && !a.internal);
      if (own) expect(await withHost(wide.origin, `${own.address}:${port}`, auth)).toBe(200);
    } finally {
      await wide.stop();
    }
  });

  it('SIGTERM with a bridge socket open: serve closes it and exits within 2 s', async () => {
    const s = await startServe(env, ['--operator', 'alice']);
    const secret = await pairSession(s);
    const open = await socket(s.origin, { origin: s.origin }, ['tokensmith', `tokensmith-session.${secret}`]);
    expect(open.opened).toBe(true);
    // A page that does not answer the close frame (busy, or hostile): stopping must not wait for it.
    (open.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const ms = await s.terminate();
    open.ws!.terminate();
    expect(ms).toBeLessThan(2000);
  });
});

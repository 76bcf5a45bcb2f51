/**
 * The console's admin routes (/api/admin/*) under the station's rules, each
 * rule checked on every one of them: no session, no answer (pairing); a
 * foreign Origin is refused; a change without an Origin is refused, and a
 * cookie never stands in for the bearer session (CSRF); another Host is
 * refused (DNS rebinding). The list of routes is read from the registration
 * itself, so a route added later is checked too.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdminApi } from '../../src/web/api-admin.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import type { ReaderHub } from '../../src/web/readers.js';
import type { Store } from '../../src/store/types.js';
import { memoryStore } from '../provision/helpers-ss.js';
import { pairSession } from './serve.js';

const noReaders: ReaderHub = {
  list: async () => [],
  open: async () => {
    throw new Error('no reader in this test');
  },
  close: async () => {},
};

/** Every admin route as registered: method and URL, with its parameters filled in. */
async function adminRoutes(store: Store): Promise<{ method: string; url: string }[]> {
  const app = Fastify();
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of ([] as string[]).concat(r.method)) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
  });
  registerAdminApi(app, store);
  await app.ready();
  await app.close();
  return routes.map((r) => ({
    ...r,
    url: r.url.replace(/:(\w+)/g, (_m, p: string) => (p === 'report' ? 'tokens-by-state.csv' : 'x')),
  }));
}

describe('the console admin routes keep the station rules', () => {
  let store: Store;
  let server: WebServer;
  let session: string;
  let routes: { method: string; url: string }[];

  beforeAll(async () => {
    store = memoryStore();
    routes = await adminRoutes(store);
    server = await startWebServer({ store, hub: noReaders, port: 0, operator: 'rules' });
    session = await pairSession({ origin: server.origin, code: server.pairingToken });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  const send = (r: { method: string; url: string }, headers: Record<string, string>) =>
    fetch(`${server.origin}${r.url}`, {
      method: r.method,
      headers: { ...headers, ...(r.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      body: r.method === 'POST' ? '{}' : undefined,
    });

  it('lists the new routes: Resources, users, tokens, audit and reports, reads and changes', () => {
    const urls = routes.map((r) => `${r.method} ${r.url}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        'GET /api/admin/resources',
        'POST /api/admin/resources',
        'POST /api/admin/resources/x',
        'POST /api/admin/users',
        'POST /api/admin/users/import',
        'POST /api/admin/users/x/membership',
        'POST /api/admin/tokens/x/assign',
        'POST /api/admin/tokens/x/unassign',
        'POST /api/admin/tokens/x/state',
        'POST /api/admin/tokens/x/resync',
        'GET /api/admin/audit',
        'GET /api/admin/audit/verify',
        'GET /api/admin/audit.csv',
        'GET /api/admin/reports',
        'GET /api/admin/reports/tokens-by-state.csv',
      ]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(18);
  });

  it('pairing: without the session secret every route answers 401 and does nothing', async () => {
    for (const r of routes) {
      const res = await send(r, { origin: server.origin });
      expect(res.status, `${r.method} ${r.url}`).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not-paired');
    }
    expect(await store.resources.list()).toEqual([]);
  });

  it('Origin: a page of another origin is refused on every route, session or not', async () => {
    for (const r of routes) {
      const res = await send(r, { origin: 'http://evil.example', authorization: `Bearer ${session}` });
      expect(res.status, `${r.method} ${r.url}`).toBe(403);
    }
  });

  it('CSRF: a change without an Origin is refused, and a cookie holding the secret opens nothing', async () => {
    for (const r of routes.filter((x) => x.method !== 'GET')) {
      const res = await send(r, { authorization: `Bearer ${session}` });
      expect(res.status, `${r.method} ${r.url} without Origin`).toBe(403);
    }
    for (const r of routes) {
      const res = await send(r, { origin: server.origin, cookie: `tokensmith_session=${session}; session=${session}` });
      expect(res.status, `${r.method} ${r.url} with a cookie`).toBe(401);
    }
    expect(await store.resources.list()).toEqual([]);
  });

  it('Host: another name for this computer (DNS rebinding) is refused on every route', async () => {
    const { request } = await import('node:http');
    const port = new URL(server.origin).port;
    for (const r of routes) {
      const status = await new Promise<number>((resolve, reject) =>
        request(
          {
            host: '127.0.0.1',
            port,
            method: r.method,
            path: r.url,
            headers: { host: `rebind.example:${port}`, authorization: `Bearer ${session}`, origin: server.origin },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        )
          .on('error', reject)
          .end(),
      );
      expect(status, `${r.method} ${r.url}`).toBe(421);
    }
  });

  it('with the session and its own Origin the routes answer, and changes name the operator', async () => {
    const post = (url: string, body: unknown) =>
      fetch(`${server.origin}${url}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, origin: server.origin, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/api/admin/resources', { name: 'vpn' })).status).toBe(200);
    const saved = await post('/api/admin/resources/vpn', {
      actions: ['enroll', 'change-name'],
      tokenTypes: ['software'],
      lockAfter: 4,
    });
    expect(await saved.json()).toMatchObject({
      resource: { name: 'vpn', actions: ['enroll', 'change-name'], tokenTypes: ['software'], lockAfter: 4 },
      changes: ['allowed enroll, change-name', 'token types allowed: software', 'lockAfter: 5 → 4'],
    });
    const rows = await store.audit.list();
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ['resource.create', 'station:rules'],
      ['resource.allow', 'station:rules'],
      ['resource.update', 'station:rules'],
    ]);
    const bad = await post('/api/admin/tokens/none/state', { action: 'lost' });
    expect(bad.status).toBe(422);
  });
});

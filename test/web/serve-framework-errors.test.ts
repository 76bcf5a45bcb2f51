/**
 * The station's answers to addresses its router refuses (a bad %-escape, an
 * overlong name): they fail before the hooks, and still carry the security
 * headers, the station's error form, and no echo of the address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { ReaderHub } from '../../src/web/readers.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { memoryStore } from '../provision/helpers-ss.js';
import { call } from './portal.js';

const noReaders: ReaderHub = {
  list: async () => [],
  open: async () => Promise.reject(new Error('no reader in this test')),
  close: async () => undefined,
};

describe('tokensmith serve: malformed addresses', () => {
  let store: Store;
  let server: WebServer;
  beforeAll(async () => {
    store = memoryStore();
    server = await startWebServer({ store, hub: noReaders, port: 0, operator: 'op' });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  it('a bad %-escape or an overlong asset name gets the security headers and { error }, without the address echoed', async () => {
    const long = 'a'.repeat(300);
    for (const path of ['/%ZZ', `/assets/${long}`]) {
      const a = await call(`${server.origin}${path}`);
      expect(a.status, path).toBe(400);
      expect(a.headers['content-security-policy'], path).toBeDefined();
      expect(a.headers['x-content-type-options'], path).toBe('nosniff');
      expect(a.headers['cache-control'], path).toBe('no-store');
      expect(a.json().error?.code, path).toBe('bad-request');
      expect(a.body, path).not.toContain(long);
    }
  });

  it('the open pairing call takes a small body only: 64 KiB is refused before it is parsed (413), and the code stays unspent', async () => {
    const headers = { origin: server.origin };
    const big = await call(`${server.origin}/api/pair`, {
      headers,
      body: { code: server.pairingToken, operator: 'op', pad: 'x'.repeat(64 * 1024) },
    });
    expect(big.status).toBe(413);
    expect(big.headers['content-security-policy']).toBeDefined();
    const ok = await call(`${server.origin}/api/pair`, {
      headers,
      body: { code: server.pairingToken, operator: 'op' },
    });
    expect(ok.status, ok.body).toBe(200);
  });
});

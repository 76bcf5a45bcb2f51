/**
 * The station (`tokensmith serve`) no longer serves the self-service pages
 * or their API: those routes are not registered at all (they belong to
 * `tokensmith portal`), whatever the pairing in front of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { ReaderHub } from '../../src/web/readers.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { memoryStore } from '../provision/helpers-ss.js';

/** No readers: this test only looks at the routes. */
const noReaders: ReaderHub = {
  list: async () => [],
  open: async () => Promise.reject(new Error('no reader in this test')),
  close: async () => undefined,
};

describe('tokensmith serve without the portal', () => {
  let store: Store;
  let server: WebServer;
  beforeAll(async () => {
    store = memoryStore();
    server = await startWebServer({ store, hub: noReaders, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  it('has no /r/<resource> page and no /api/r/<resource>/... route; the station page is still there', () => {
    expect(server.app.hasRoute({ method: 'GET', url: '/' })).toBe(true);
    expect(server.app.hasRoute({ method: 'GET', url: '/r/:resource' })).toBe(false);
    for (const url of [
      '/api/r/:resource/signin/begin',
      '/api/r/:resource/signin',
      '/api/r/:resource/signout',
      '/api/r/:resource/actions/:action',
    ]) {
      expect(server.app.hasRoute({ method: 'POST', url }), url).toBe(false);
    }
    expect(server.app.hasRoute({ method: 'GET', url: '/api/r/:resource/me' })).toBe(false);
  });
});

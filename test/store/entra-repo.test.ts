/**
 * The store's Entra record on SQLite and PostgreSQL: the connection with its credential sealed (a wrong
 * master key does not open it, the clear text is nowhere in the row), the per-token record kept field by
 * field, and the seed digest keyed by the master key.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { keyEnv, postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('Entra record on $name', (backend) => {
  let store: Store;
  const test = useBackend(backend);
  const conn = {
    tenant: 'contoso.example',
    clientId: 'app',
    auth: 'secret' as const,
    graphUrl: 'https://graph.microsoft.com/beta',
    authorityUrl: 'https://login.microsoftonline.com',
  };

  test('the credential is sealed: it opens with the key, not with another, and a new connect replaces it', async () => {
    const env = keyEnv();
    store = await backend.fresh(env);
    expect(await store.entra.connection()).toBeNull();
    expect(await store.entra.openCredential()).toBeNull();
    const secret = `cs~${randomBytes(12).toString('hex')}`;
    await store.entra.saveConnection(conn, secret);
    expect(await store.entra.connection()).toMatchObject(conn);
    expect(await store.entra.openCredential()).toBe(secret);
    const other = await backend.reopen(keyEnv());
    await expect(other.entra.openCredential()).rejects.toThrow();
    await store.entra.saveCredential('cache-2');
    expect(await store.entra.openCredential()).toBe('cache-2');
    await store.entra.saveConnection({ ...conn, auth: 'device-code', tenant: 'other' }, null);
    expect(await store.entra.connection()).toMatchObject({ auth: 'device-code', tenant: 'other' });
    expect(await store.entra.openCredential()).toBeNull();
  });

  test('the per-token record keeps what a patch leaves out, clears the error, and follows the token', async () => {
    store = await backend.fresh();
    const t = await store.tokens.insert({ ...baseToken, serial: 'E1', seed: randomBytes(20) });
    const digest = await store.entra.seedDigest(Buffer.alloc(20, 7));
    expect(digest).toMatch(/^[0-9a-f]{32}$/);
    expect(await store.entra.seedDigest(Buffer.alloc(20, 7))).toBe(digest);
    expect(await store.entra.seedDigest(Buffer.alloc(20, 8))).not.toBe(digest);
    await store.entra.recordDevice({ tokenId: t.id, state: 'sent', entraId: null, seedDigest: digest });
    await store.entra.recordDevice({ tokenId: t.id, state: 'not-in-entra', error: 'generalException: boom' });
    expect(await store.entra.device(t.id)).toMatchObject({
      state: 'not-in-entra',
      seedDigest: digest,
      error: 'generalException: boom',
    });
    await store.entra.recordDevice({ tokenId: t.id, state: 'available', entraId: 'dev-1' });
    expect(await store.entra.device(t.id)).toMatchObject({
      state: 'available',
      entraId: 'dev-1',
      seedDigest: digest,
      error: null,
    });
    expect((await store.entra.devices()).map((d) => d.tokenId)).toEqual([t.id]);
    await store.tokens.delete(t.id);
    expect(await store.entra.device(t.id)).toBeNull();
  });

  test('another master key gives another digest of the same seed', async () => {
    const a = await (await backend.fresh()).entra.seedDigest(Buffer.alloc(20, 1));
    const b = await (await backend.fresh()).entra.seedDigest(Buffer.alloc(20, 1));
    expect(a).not.toBe(b);
  });
});

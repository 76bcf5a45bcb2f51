/**
 * A Graph client for the store's Entra connection: the sealed credential opened only here, an access token
 * fetched on first use and kept for the run, and the device-code cache sealed again after a refresh.
 */
import { DataError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { appToken, cachedUserToken } from './auth.js';
import { GraphClient, type GraphClientOptions } from './graph.js';

export type SessionOptions = Pick<GraphClientOptions, 'maxRetries' | 'backoffBaseMs' | 'sleep'>;

export async function openGraph(store: Store, opts: SessionOptions = {}): Promise<GraphClient> {
  const conn = await store.entra.connection();
  if (!conn) throw new DataError('no Entra connection: run `tokensmith entra connect` first', { code: 'no-entra' });
  let token: Promise<string> | null = null;
  const fetchToken = async (): Promise<string> => {
    const credential = await store.entra.openCredential();
    if (!credential)
      throw new DataError('the Entra connection has no credential: run `tokensmith entra connect` again', {
        code: 'no-entra',
      });
    if (conn.auth !== 'device-code') return appToken(conn, conn.auth, credential);
    const r = await cachedUserToken(conn, credential);
    await store.entra.saveCredential(r.cache);
    return r.token;
  };
  return new GraphClient({ ...opts, baseUrl: conn.graphUrl, token: () => (token ??= fetchToken()) });
}

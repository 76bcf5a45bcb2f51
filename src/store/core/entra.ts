/**
 * The Entra repository over a Dialect: the connection with its sealed credential, and the per-token record
 * of what reached Entra. The credential is sealed like a seed (AES-256-GCM under the master key, bound to
 * what it is), so a copied row or a wrong key does not open it.
 */
import { createHmac } from 'node:crypto';
import { DataError } from '../../core/errors.js';
import type { EntraConnection, EntraDevicePatch, EntraDeviceRecord, EntraRepo } from '../entra-types.js';
import { openSeed, sealSeed } from '../vault.js';
import { nowIso as now, type Dialect } from './dialect.js';
import type { Row } from './rows.js';

/** What the sealed credential is bound to: it opens only as the Entra credential of this store. */
const CREDENTIAL_BINDING = 'tokensmith-entra-credential-v1';

function toConnection(r: Row): EntraConnection {
  return {
    tenant: r.tenant as string,
    clientId: r.client_id as string,
    auth: r.auth as EntraConnection['auth'],
    graphUrl: r.graph_url as string,
    authorityUrl: r.authority_url as string,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

function toDevice(r: Row): EntraDeviceRecord {
  return {
    tokenId: Number(r.token_id),
    entraId: (r.entra_id as string | null) ?? null,
    state: r.state as EntraDeviceRecord['state'],
    userRef: (r.user_ref as string | null) ?? null,
    seedDigest: (r.seed_digest as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    updatedAt: r.updated_at as string,
  };
}

export class SqlEntraRepo implements EntraRepo {
  constructor(
    private readonly d: Dialect,
    private readonly key: () => Buffer | Promise<Buffer>,
  ) {}

  async connection(): Promise<EntraConnection | null> {
    const r = await this.d.get('SELECT * FROM entra_connections WHERE id = 1');
    return r ? toConnection(r) : null;
  }

  async saveConnection(c: Omit<EntraConnection, 'createdAt' | 'updatedAt'>, credential: string | null): Promise<void> {
    const sealed = credential === null ? null : await this.seal(credential);
    const ph = (n: number) => this.d.ph(n);
    await this.d.run(
      `INSERT INTO entra_connections (id, tenant, client_id, auth, sealed_credential, graph_url, authority_url, created_at, updated_at)
       VALUES (1, ${ph(1)}, ${ph(2)}, ${ph(3)}, ${ph(4)}, ${ph(5)}, ${ph(6)}, ${ph(7)}, ${ph(8)})
       ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, client_id = excluded.client_id, auth = excluded.auth,
         sealed_credential = excluded.sealed_credential, graph_url = excluded.graph_url,
         authority_url = excluded.authority_url, updated_at = excluded.updated_at`,
      [c.tenant, c.clientId, c.auth, sealed, c.graphUrl, c.authorityUrl, now(), now()],
    );
  }

  async openCredential(): Promise<string | null> {
    const r = await this.d.get('SELECT sealed_credential FROM entra_connections WHERE id = 1');
    const sealed = r?.sealed_credential as Uint8Array | null | undefined;
    if (!sealed) return null;
    const opened = openSeed(await this.key(), sealed, CREDENTIAL_BINDING);
    if (!opened)
      throw new DataError('the sealed Entra credential does not open: run `tokensmith entra connect` again', {
        code: 'seal-broken',
      });
    return opened.toString('utf8');
  }

  async saveCredential(credential: string): Promise<void> {
    const n = await this.d.run(
      `UPDATE entra_connections SET sealed_credential = ${this.d.ph(1)}, updated_at = ${this.d.ph(2)} WHERE id = 1`,
      [await this.seal(credential), now()],
    );
    if (n === 0) throw new DataError('no Entra connection: run `tokensmith entra connect` first', { code: 'no-entra' });
  }

  async seedDigest(seed: Uint8Array): Promise<string> {
    // A key derived for this use only: the digest is no oracle for the seed, and not the key check value.
    const k = createHmac('sha256', await this.key())
      .update('tokensmith entra seed digest v1')
      .digest();
    return createHmac('sha256', k).update(seed).digest('hex').slice(0, 32);
  }

  async device(tokenId: number): Promise<EntraDeviceRecord | null> {
    const r = await this.d.get(`SELECT * FROM entra_devices WHERE token_id = ${this.d.ph(1)}`, [tokenId]);
    return r ? toDevice(r) : null;
  }

  async devices(): Promise<EntraDeviceRecord[]> {
    return (await this.d.all('SELECT * FROM entra_devices ORDER BY token_id')).map(toDevice);
  }

  async recordDevice(p: EntraDevicePatch): Promise<EntraDeviceRecord> {
    const old = await this.device(p.tokenId);
    const next = {
      entraId: p.entraId !== undefined ? p.entraId : (old?.entraId ?? null),
      userRef: p.userRef !== undefined ? p.userRef : (old?.userRef ?? null),
      seedDigest: p.seedDigest !== undefined ? p.seedDigest : (old?.seedDigest ?? null),
    };
    const ph = (n: number) => this.d.ph(n);
    const r = await this.d.get(
      `INSERT INTO entra_devices (token_id, entra_id, state, user_ref, seed_digest, error, updated_at)
       VALUES (${ph(1)}, ${ph(2)}, ${ph(3)}, ${ph(4)}, ${ph(5)}, ${ph(6)}, ${ph(7)})
       ON CONFLICT (token_id) DO UPDATE SET entra_id = excluded.entra_id, state = excluded.state, user_ref = excluded.user_ref,
         seed_digest = excluded.seed_digest, error = excluded.error, updated_at = excluded.updated_at
       RETURNING *`,
      [p.tokenId, next.entraId, p.state, next.userRef, next.seedDigest, p.error ?? null, now()],
    );
    return toDevice(r!);
  }

  private async seal(credential: string): Promise<Buffer> {
    return sealSeed(await this.key(), Buffer.from(credential, 'utf8'), CREDENTIAL_BINDING);
  }
}

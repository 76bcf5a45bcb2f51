/**
 * The per-address limit against a client that owns many addresses: one IPv6
 * network (/64, what one host or home line is given) is one address for the
 * limit, and an IPv4 client seen as ::ffff:a.b.c.d is that IPv4 address.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResource } from '../../src/provision/resources.js';
import type { Store } from '../../src/store/types.js';
import { registerSelfServiceApi } from '../../src/web/api-selfservice.js';
import { addressBucket } from '../../src/web/portal-guard.js';
import { memoryStore } from '../provision/helpers-ss.js';

let store: Store;
let app: FastifyInstance;
beforeAll(async () => {
  store = memoryStore();
  await createResource(store, { name: 'corp' });
  app = Fastify({ logger: false });
  registerSelfServiceApi(app, {
    store,
    mailer: { send: async () => ({ delivered: 'none' }) },
    limits: { perAddress: 5, perUser: 1e6, overall: 1e6 },
  });
});
afterAll(async () => {
  await app.close();
  await store.close();
});

const begin = (ip: string, i: number) =>
  app.inject({ method: 'POST', url: '/api/r/corp/signin/begin', remoteAddress: ip, payload: { login: `u${i}` } });

describe('per-address buckets', () => {
  it('20 requests from 20 addresses of one IPv6 /64: 5 allowed, the rest 429', async () => {
    const codes: number[] = [];
    for (let i = 1; i <= 20; i++) codes.push((await begin(`2001:db8:1:2::${i.toString(16)}`, i)).statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(15);
    // Another /64 has its own bucket.
    expect((await begin('2001:db8:1:3::1', 99)).statusCode).toBe(200);
  });

  it('an address is bucketed by its IPv6 /64, or as itself for IPv4 (mapped or not)', () => {
    expect(addressBucket('2001:db8:1:2::7')).toBe(addressBucket('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(addressBucket('2001:db8:1:2::7')).not.toBe(addressBucket('2001:db8:1:3::7'));
    expect(addressBucket('::ffff:192.0.2.1')).toBe(addressBucket('192.0.2.1'));
    expect(addressBucket('192.0.2.1')).not.toBe(addressBucket('192.0.2.2'));
    expect(addressBucket('::1')).toBe(addressBucket('0:0:0:0:0:0:0:1'));
  });
});

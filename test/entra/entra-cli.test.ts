/**
 * `tokensmith entra connect / push / status` end to end against a local HTTPS stand-in for Entra's sign-in
 * and Microsoft Graph (test/helpers/entra-server.ts), the CLI spawned from dist/ with the server's
 * certificate trusted through NODE_EXTRA_CA_CERTS.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { openStore } from '../../src/store/index.js';
import type { NewToken, Store } from '../../src/store/types.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { FakeEntra } from '../helpers/entra-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-entra-'));
const CLIENT_SECRET = `cs~${randomBytes(18).toString('base64url')}`;
const server = new FakeEntra();
const seeds: string[] = [];
let env: NodeJS.ProcessEnv;

function seedFor(i: number): Buffer {
  const s = randomBytes(20);
  seeds.push(encodeBase32(s), s.toString('hex'));
  return s;
}

function token(serial: string, over: Partial<NewToken> = {}): NewToken {
  return {
    serial,
    manufacturer: 'TOKEN2',
    model: 'C202',
    kind: 'classic',
    type: 'totp',
    algorithm: 'sha1',
    digits: 6,
    period: 30,
    counter: 0,
    state: 'in_stock',
    seed: seedFor(0),
    ...over,
  };
}

async function withDb<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore({ db: env.TOKENSMITH_DB, env });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

function cli(args: string[]) {
  return runCli(args, { env, timeoutMs: 120_000 });
}

function serialsFile(name: string, serials: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, serials.join('\n') + '\n');
  return f;
}

/** Every output and row a secret could leak into. */
const everything: string[] = [];

beforeAll(async () => {
  assertBuilt();
  await server.start();
  server.clientSecret = CLIENT_SECRET;
  env = {
    ...process.env,
    TOKENSMITH_DB: join(dir, 't.db'),
    TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
    NODE_EXTRA_CA_CERTS: server.certFile,
  };
  writeFileSync(join(dir, 'secret.txt'), CLIENT_SECRET + '\n');
  const r = await cli(['entra', 'connect', '--tenant', server.tenant, '--client-id', server.clientId, '--client-secret-file', join(dir, 'secret.txt'),
    '--graph-url', server.graphUrl, '--authority-url', server.url, '--json']);
  everything.push(r.stdout, r.stderr);
  expect(r.code, r.stderr + JSON.stringify(server.log)).toBe(0);
}, 60_000);

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('entra push', () => {
  const bulk = Array.from({ length: 250 }, (_, i) => `BULK${String(i).padStart(4, '0')}`);

  it('pushes 250 tokens in chunks through a forced 429 (Retry-After honoured), every token found by serial', async () => {
    await withDb((s) => s.tokens.insertMany(bulk.map((b) => token(b))));
    server.injections.push({ method: 'POST', path: /hardwareOathDevices$/, nth: 2, status: 429, retryAfter: '1' });
    const started = Date.now();
    const r = await cli(['entra', 'push', '--serials', serialsFile('bulk.txt', bulk), '--json']);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ considered: 250, created: 250, alreadyThere: 0, refused: [], failed: [], retries: 1 });
    const posts = server.log.filter((l) => l.method === 'POST' && l.path.endsWith('hardwareOathDevices'));
    expect(posts.map((p) => p.status)).toEqual([201, 429, 201, 201]);
    const throttledAt = server.log.indexOf(posts[1]!);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(server.log[throttledAt + 1]).toMatchObject({ method: 'POST', status: 201 });
    expect(server.devices.size).toBe(250);
    for (const b of bulk) expect(server.bySerial(b)?.status).toBe('available');
    const recs = await withDb((s) => s.entra.devices());
    expect(recs.filter((x) => x.state === 'available' && x.entraId).length).toBe(250);
  }, 120_000);

  it('a rerun creates nothing: the device list is read page by page (@odata.nextLink) and every token is already there', async () => {
    server.pageSize = 40;
    const before = server.log.length;
    const r = await cli(['entra', 'push', '--serials', serialsFile('bulk.txt', bulk), '--json']);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 0, alreadyThere: 250, failed: [] });
    const calls = server.log.slice(before);
    expect(calls.filter((l) => l.method === 'POST' && l.path.startsWith('/beta/'))).toEqual([]);
    expect(calls.filter((l) => l.method === 'GET' && l.path.includes('hardwareOathDevices')).length).toBe(7); // 250 / 40
    expect(server.devices.size).toBe(250);
  }, 60_000);

  it('refuses HOTP and 8-digit tokens by name before any call', async () => {
    await withDb((s) =>
      s.tokens.insertMany([token('HOTP0001', { type: 'hotp' }), token('EIGHT001', { digits: 8 }), token('SHA512001', { algorithm: 'sha512' })]),
    );
    const before = server.log.length;
    const r = await cli(['entra', 'push', '--serials', serialsFile('bad.txt', ['HOTP0001', 'EIGHT001', 'SHA512001']), '--json']);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { refused: { serial: string; reason: string }[]; created: number };
    expect(report.created).toBe(0);
    expect(report.refused).toEqual([
      { serial: 'EIGHT001', reason: '8 digits: Entra verifies 6-digit codes only' },
      { serial: 'HOTP0001', reason: 'HOTP: Entra holds TOTP tokens only' },
      { serial: 'SHA512001', reason: 'SHA-512: Entra takes HMAC-SHA1 or HMAC-SHA256 only' },
    ].sort((a, b) => (report.refused.findIndex((x) => x.serial === a.serial) - report.refused.findIndex((x) => x.serial === b.serial))));
    expect(server.log.slice(before)).toEqual([]); // no sign-in, no Graph call
  }, 60_000);
});

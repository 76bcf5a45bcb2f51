// @module-tag subprocess
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

function seedFor(_i: number): Buffer {
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
  const r = await cli([
    'entra',
    'connect',
    '--tenant',
    server.tenant,
    '--client-id',
    server.clientId,
    '--client-secret-file',
    join(dir, 'secret.txt'),
    '--graph-url',
    server.graphUrl,
    '--authority-url',
    server.url,
    '--json',
  ]);
  everything.push(r.stdout, r.stderr);
  expect(r.code, r.stderr).toBe(0);
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
    expect(report).toMatchObject({
      considered: 250,
      created: 250,
      alreadyThere: 0,
      refused: [],
      failed: [],
      retries: 1,
    });
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
      s.tokens.insertMany([
        token('HOTP0001', { type: 'hotp' }),
        token('EIGHT001', { digits: 8 }),
        token('SHA512001', { algorithm: 'sha512' }),
      ]),
    );
    const before = server.log.length;
    const r = await cli([
      'entra',
      'push',
      '--serials',
      serialsFile('bad.txt', ['HOTP0001', 'EIGHT001', 'SHA512001']),
      '--json',
    ]);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { refused: { serial: string; reason: string }[]; created: number };
    expect(report.created).toBe(0);
    expect(report.refused).toEqual(
      [
        { serial: 'EIGHT001', reason: '8 digits: Entra verifies 6-digit codes only' },
        { serial: 'HOTP0001', reason: 'HOTP: Entra holds TOTP tokens only' },
        { serial: 'SHA512001', reason: 'SHA-512: Entra takes HMAC-SHA1 or HMAC-SHA256 only' },
      ].sort(
        (a, b) =>
          report.refused.findIndex((x) => x.serial === a.serial) -
          report.refused.findIndex((x) => x.serial === b.serial),
      ),
    );
    expect(server.log.slice(before)).toEqual([]); // no sign-in, no Graph call
  }, 60_000);
});

/** Puts tokens in a Resource's stock and assigns each to a new user (login, email) in it. */
async function assigned(rows: { serial: string; login: string; email?: string }[]): Promise<void> {
  await withDb(async (s) => {
    const res = (await s.resources.findByName('vpn')) ?? (await s.resources.create({ name: 'vpn' }));
    for (const r of rows) {
      const t = await s.tokens.insert(token(r.serial, { resourceId: res.id, state: 'assigned' }));
      const u = await s.users.create({ login: r.login, email: r.email ?? null });
      await s.users.addToResource(u.id, res.id);
      await s.assignments.create({ tokenId: t.id, userId: u.id, resourceId: res.id });
    }
  });
}

describe('entra push --dry-run', () => {
  it('counts what would be created and refused, sends no write and records nothing', async () => {
    await withDb((s) => s.tokens.insertMany([token('DRY0001'), token('DRY0002'), token('DRYHOTP', { type: 'hotp' })]));
    const before = server.log.length;
    const r = await cli([
      'entra',
      'push',
      '--serials',
      serialsFile('dry.txt', ['DRY0001', 'DRY0002', 'DRYHOTP']),
      '--dry-run',
    ]);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^dry run \(nothing sent to Entra\): 3 token\(s\): 2 created, 0 already there/);
    expect(r.stdout).toContain('refused DRYHOTP: HOTP: Entra holds TOTP tokens only');
    expect(server.log.slice(before).filter((l) => l.method !== 'GET' && l.path.startsWith('/beta/'))).toEqual([]);
    expect(server.bySerial('DRY0001')).toBeUndefined();
    const ids = await withDb(async (s) => (await s.tokens.list({ serials: ['DRY0001'] })).map((t) => t.id));
    expect(await withDb((s) => s.entra.device(ids[0]!))).toBeNull();
  }, 60_000);
});

describe('entra push --assign --activate', () => {
  it('assigns and activates for users matched by UPN (and by mail): Entra checks each code against the uploaded seed', async () => {
    server.addUser('alice@contoso.example');
    server.addUser('carol@contoso.example');
    server.addUser('bob.smith@contoso.example', 'bob@contoso.example');
    await assigned([
      { serial: 'USR0001', login: 'alice@contoso.example' },
      { serial: 'USR0002', login: 'carol@contoso.example' },
      { serial: 'USR0003', login: 'bob', email: 'bob@contoso.example' },
    ]);
    const serials = serialsFile('users.txt', ['USR0001', 'USR0002', 'USR0003']);
    const r = await cli(['entra', 'push', '--serials', serials, '--assign', '--activate', '--json']);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 3, assigned: 3, activated: 3, failed: [], refused: [] });
    const alice = server.users.find((u) => u.userPrincipalName === 'alice@contoso.example')!;
    expect(server.bySerial('USR0001')).toMatchObject({ status: 'activated', assignedTo: { id: alice.id } });
    expect(server.bySerial('USR0003')?.status).toBe('activated');
    const recs = await withDb(async (s) => (await s.tokens.findBySerial('USR0001')).map((t) => t.id)).then((ids) =>
      withDb((s) => s.entra.device(ids[0]!)),
    );
    expect(recs).toMatchObject({ state: 'activated', userRef: alice.id, entraId: server.bySerial('USR0001')!.id });
    const rerun = await cli(['entra', 'push', '--serials', serials, '--assign', '--activate', '--json']);
    everything.push(rerun.stdout, rerun.stderr);
    expect(JSON.parse(rerun.stdout)).toMatchObject({
      created: 0,
      alreadyThere: 3,
      assigned: 0,
      activated: 0,
      failed: [],
    });
  }, 60_000);

  it("a wrong code fails as Entra fails it (failedActivation), with Graph's code in the report", async () => {
    server.addUser('dave@contoso.example');
    await assigned([{ serial: 'USR0004', login: 'dave@contoso.example' }]);
    // The token in Entra gets another seed than the store's: the code tokensmith computes is then wrong there.
    const f = serialsFile('dave.txt', ['USR0004']);
    expect((await cli(['entra', 'push', '--serials', f, '--json'])).code).toBe(0);
    server.bySerial('USR0004')!.secretKey = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const r = await cli(['entra', 'push', '--serials', f, '--activate', '--json']);
    everything.push(r.stdout, r.stderr);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({
      activated: 0,
      failed: [{ serial: 'USR0004', step: 'activate', code: 'invalidVerificationCode' }],
    });
    expect(server.bySerial('USR0004')?.status).toBe('failedActivation');
  }, 60_000);
});

describe('entra push: what reached Entra stays exact', () => {
  const mid = Array.from({ length: 250 }, (_, i) => `MID${String(i).padStart(4, '0')}`);

  it('a 500 on the second chunk: that chunk is recorded not in Entra with the error, the others as created; a rerun sends only it', async () => {
    await withDb((s) => s.tokens.insertMany(mid.map((m) => token(m))));
    server.injections.push({
      method: 'POST',
      path: /hardwareOathDevices$/,
      nth: 2,
      status: 500,
      code: 'generalException',
    });
    const f = serialsFile('mid.txt', mid);
    const r = await cli(['entra', 'push', '--serials', f, '--json']);
    everything.push(r.stdout, r.stderr);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as {
      created: number;
      failed: { serial: string; code: string; message: string }[];
    };
    expect(report.created).toBe(150);
    expect(report.failed.length).toBe(100);
    expect(report.failed[0]).toMatchObject({ code: 'generalException', message: 'forced 500 by the test' });
    const byState = await withDb(async (s) => {
      const out: Record<string, string[]> = {};
      for (const t of await s.tokens.list({ serials: mid })) {
        const rec = await s.entra.device(t.id);
        const there = server.bySerial(t.serial);
        // The record is exact: an Entra id exactly when Entra has the token, and the same id.
        expect(rec?.entraId ?? null).toBe(there?.id ?? null);
        (out[rec!.state] ??= []).push(t.serial);
      }
      return out;
    });
    expect(byState['available']?.length).toBe(150);
    expect(byState['not-in-entra']?.sort()).toEqual(mid.slice(100, 200));
    const again = await cli(['entra', 'push', '--serials', f, '--json']);
    everything.push(again.stdout, again.stderr);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 100, alreadyThere: 150, failed: [] });
  }, 120_000);

  it('a 500 after the server made the chunk (the answer lost): the inventory is read again and every token recorded as created', async () => {
    const lost = Array.from({ length: 30 }, (_, i) => `LOST${String(i).padStart(3, '0')}`);
    await withDb((s) => s.tokens.insertMany(lost.map((m) => token(m))));
    server.injections.push({ method: 'POST', path: /hardwareOathDevices$/, status: 500, afterCommit: true });
    const r = await cli(['entra', 'push', '--serials', serialsFile('lost.txt', lost), '--json']);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: 30, failed: [] });
    await withDb(async (s) => {
      for (const t of await s.tokens.list({ serials: lost }))
        expect(await s.entra.device(t.id)).toMatchObject({
          state: 'available',
          entraId: server.bySerial(t.serial)!.id,
        });
    });
  }, 60_000);

  it('refuses a token whose Entra twin has another seed, and one tokensmith did not upload', async () => {
    await withDb(async (s) => {
      const t = (await s.tokens.findBySerial('BULK0000'))[0]!;
      await s.tokens.update(t.id, { seed: seedFor(0) });
      await s.tokens.insert(token('FOREIGN01'));
    });
    server.devices.set('foreign', { ...server.bySerial('BULK0001')!, id: 'foreign', serialNumber: 'FOREIGN01' });
    const r = await cli(['entra', 'push', '--serials', serialsFile('twins.txt', ['BULK0000', 'FOREIGN01']), '--json']);
    everything.push(r.stdout, r.stderr);
    const report = JSON.parse(r.stdout) as { refused: { serial: string; reason: string }[]; created: number };
    expect(report.created).toBe(0);
    expect(report.refused).toContainEqual({
      serial: 'BULK0000',
      reason: expect.stringMatching(/different seed/) as string,
    });
    expect(report.refused).toContainEqual({
      serial: 'FOREIGN01',
      reason: expect.stringMatching(/not uploaded by tokensmith/) as string,
    });
  }, 60_000);
});

describe('entra status', () => {
  it('shows both sides and what differs', async () => {
    server.devices.delete(server.bySerial('BULK0002')!.id);
    const r = await cli([
      'entra',
      'status',
      '--serials',
      serialsFile('st.txt', ['BULK0002', 'BULK0003', 'USR0001', 'FOREIGN01']),
      '--json',
    ]);
    everything.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      serial: string;
      entra: string | null;
      recorded: string;
      differs: string[];
    }[];
    const by = new Map(rows.map((x) => [x.serial, x]));
    expect(by.get('BULK0002')).toMatchObject({
      entra: null,
      recorded: 'available',
      differs: ['recorded in Entra, not found there'],
    });
    expect(by.get('BULK0003')).toMatchObject({ entra: 'available', differs: [] });
    expect(by.get('USR0001')).toMatchObject({ entra: 'activated', recorded: 'activated', differs: [] });
    expect(by.get('FOREIGN01')?.differs).toEqual(['in Entra, not recorded by tokensmith']);
    const text = await cli(['entra', 'status', '--serials', join(dir, 'st.txt')]);
    everything.push(text.stdout, text.stderr);
    expect(text.stdout).toMatch(/BULK0002 .* recorded in Entra, not found there/);
  }, 60_000);
});

describe('no secret leaks', () => {
  it('no seed and no client secret in any output, audit row, Entra record, or the database file in the clear', async () => {
    const rows = await withDb(async (s) => [
      JSON.stringify(await s.audit.list({ limit: 100000 })),
      JSON.stringify(await s.entra.devices()),
      JSON.stringify(await s.entra.connection()),
    ]);
    const haystack = [...everything, ...rows].join('\n');
    expect(haystack.length).toBeGreaterThan(1000);
    expect(haystack).toContain('entra.create');
    for (const secret of [CLIENT_SECRET, ...seeds]) expect(haystack.includes(secret), 'a secret leaked').toBe(false);
    expect(readFileSync(env.TOKENSMITH_DB!).includes(Buffer.from(CLIENT_SECRET))).toBe(false);
  });
});

import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { encodeBase32 } from '../../src/core/codecs.js';
import { generateCode } from '../../src/core/otp.js';
import { deviceInfo, syncDevice, verifyDevice } from '../../src/provision/families/token2-nfc/device.js';
import { flashToken, parseFlashInput } from '../../src/provision/families/token2-nfc/flash.js';
import { createResource } from '../../src/provision/resources.js';
import { viewToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';

let store: Store;
const NOW = 1_767_225_600_000;
const now = () => NOW;

beforeEach(() => {
  store = openSqliteStore({
    path: ':memory:',
    env: { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') },
    operator: 'test',
  });
});
afterEach(async () => {
  await store.close();
});

const sha256 = parseFlashInput({ algorithm: 'sha256', period: '60', displayTimeout: '60' });

describe('flashToken', () => {
  it('writes the seed and registers the token in one go: programmable, programmed, model, a flash batch, an audit row', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042', clockOffset: -77, now });
    const seed = randomBytes(32);
    const r = await flashToken(store, new MemoryTransport(sim), { ...sha256, seed }, { now });
    expect(r).toMatchObject({
      serial: '86596220000042',
      model: 'token2-card',
      product: 'OTPC-P2-i',
      clockOffsetBefore: -77,
      clockOffsetAfter: 0,
      commands: 8,
    });
    expect(sim.heldSeed()).toEqual(Uint8Array.from(seed));
    const t = (await store.tokens.findBySerial('86596220000042'))[0]!;
    expect(t).toMatchObject({
      kind: 'programmable',
      state: 'programmed',
      model: 'OTPC-P2-i',
      manufacturer: 'Token2',
      algorithm: 'sha256',
      period: 60,
      digits: 6,
    });
    expect((await store.tokens.openSeed(t)).equals(seed)).toBe(true);
    const batch = await store.batches.get(t.batchId!);
    expect(batch).toMatchObject({ kind: 'flash', imported: 1, status: 'done' });
    const audit = await store.audit.list({ action: 'token.flash' });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0])).not.toContain(seed.toString('hex'));
    expect(JSON.stringify(audit[0])).not.toContain(encodeBase32(seed));
  });

  it('makes a fresh 20-byte seed for SHA-1 and 32-byte for SHA-256 when none is given', async () => {
    for (const [alg, n] of [
      ['sha1', 20],
      ['sha256', 32],
    ] as const) {
      const sim = new Token2Simulator({ model: 'token2-fob', serial: `865961000000${n}` });
      await flashToken(store, new MemoryTransport(sim), parseFlashInput({ algorithm: alg }));
      expect(sim.heldSeed()!.length).toBe(n);
      const t = (await store.tokens.findBySerial(`865961000000${n}`))[0]!;
      expect((await store.tokens.openSeed(t)).equals(Buffer.from(sim.heldSeed()!))).toBe(true);
    }
  });

  it('refuses to overwrite a token the store holds a seed for, unless --force (exit 5, nothing written)', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042' });
    await flashToken(store, new MemoryTransport(sim), sha256);
    const first = sim.heldSeed();
    const err = await flashToken(store, new MemoryTransport(sim), sha256).catch((e) => e);
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(/--force/);
    expect(sim.heldSeed()).toEqual(first);
    await flashToken(store, new MemoryTransport(sim), { ...sha256, force: true });
    expect(sim.heldSeed()).not.toEqual(first);
    expect(await store.tokens.count()).toBe(1);
  });

  it('assigns as it flashes with --resource and --user', async () => {
    await createResource(store, { name: 'vpn' });
    await addUser(store, { login: 'alice', email: 'a@example.com', resources: ['vpn'] });
    const sim = new Token2Simulator({ model: 'token2-card' });
    const r = await flashToken(store, new MemoryTransport(sim), { ...sha256, resource: 'vpn', user: 'alice' });
    expect(r.token).toMatchObject({ state: 'assigned', resource: 'vpn', user: 'alice' });
  });

  it('refuses an unknown user before writing anything', async () => {
    await createResource(store, { name: 'vpn' });
    const sim = new Token2Simulator({ model: 'token2-card' });
    const t = new MemoryTransport(sim);
    await expect(flashToken(store, t, { ...sha256, resource: 'vpn', user: 'nobody' })).rejects.toThrow(
      /no user 'nobody'/,
    );
    expect(t.commandCount).toBe(0);
  });

  it('auth failure 6983: one attempt, exit 3, no token stored, an audit row and an aborted batch', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000077', keyLocked: true });
    const err = await flashToken(store, new MemoryTransport(sim), sha256).catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/did not retry/);
    expect(sim.state().authFailures).toBe(1);
    expect(await store.tokens.count()).toBe(0);
    const [row] = await store.audit.list({ action: 'token.flash-failed' });
    expect(row).toMatchObject({
      subject: 'token:86596220000077',
      details: { error: 'auth-failed', configWritten: false },
    });
    expect((await store.batches.list())[0]).toMatchObject({ kind: 'flash', failed: 1, status: 'aborted' });
  });

  it('card pulled between config and seed: exit 3, says the seed may be wiped, no programmed token, audit row', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000055' });
    const err = await flashToken(store, new MemoryTransport(sim, { removeBeforeCommand: 5 }), sha256).catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/Config written, seed not written: .*seed may be wiped.*flash it again/);
    expect(await store.tokens.count()).toBe(0);
    const [row] = await store.audit.list({ action: 'token.flash-failed' });
    expect(row!.details).toMatchObject({
      configWritten: true,
      seedWritten: false,
      error: 'card-removed',
      step: 'challenge',
    });
  });

  it('a re-flash of a programmed token whose config write wiped the seed puts it back in stock without a seed', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000056' });
    await flashToken(store, new MemoryTransport(sim), sha256);
    await flashToken(store, new MemoryTransport(sim, { removeBeforeCommand: 5 }), { ...sha256, force: true }).catch(
      () => {},
    );
    const t = (await store.tokens.findBySerial('86596220000056'))[0]!;
    expect(t).toMatchObject({ state: 'in_stock', hasSeed: false });
  });
});

describe('device sync, verify and info', () => {
  it('re-burns the stored seed on a restricted-sync token and sets a fresh clock', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042', now });
    await flashToken(store, new MemoryTransport(sim), sha256, { now });
    const held = sim.heldSeed();
    const later = () => NOW + 3_600_000;
    const drifted = new Token2Simulator({
      model: 'token2-card',
      serial: '86596220000042',
      clockOffset: 400,
      now: later,
    });
    const r = await syncDevice(store, new MemoryTransport(drifted), { now: later });
    expect(r).toMatchObject({ seedRewritten: true, offsetBefore: 400, offsetAfter: 0 });
    expect(drifted.heldSeed()).toEqual(held);
    expect(drifted.state()).toMatchObject({ algorithm: 'sha256', period: 60, displayTimeoutCode: 2, clockOffset: 0 });
    expect(await store.audit.list({ action: 'token.sync' })).toHaveLength(1);
  });

  it('refuses to sync a restricted-sync token the store does not know, with the reason, writing nothing', async () => {
    const sim = new Token2Simulator({
      model: 'token2-card',
      serial: '86596220000099',
      seed: new Uint8Array(20).fill(3),
    });
    const t = new MemoryTransport(sim);
    const err = await syncDevice(store, t).catch((e) => e);
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(/wipes its seed when its clock is set.*does not know this token; nothing was written/);
    expect(t.commandCount).toBe(1);
    expect(sim.state().seedHex).not.toBeNull();
  });

  it('syncs a C302-i without touching its seed; an unknown one needs --algorithm and --period', async () => {
    const seed = new Uint8Array(20).fill(4);
    const fob = new Token2Simulator({ model: 'token2-fob-c302', serial: '86596320000001', seed, clockOffset: -30 });
    await expect(syncDevice(store, new MemoryTransport(fob))).rejects.toThrow(/--algorithm and --period/);
    const r = await syncDevice(store, new MemoryTransport(fob), { algorithm: 'sha1', period: 30 });
    expect(r).toMatchObject({ seedRewritten: false, offsetBefore: -30 });
    expect(fob.heldSeed()).toEqual(seed);
  });

  it('verifies a code read off the display and reports the drift in steps', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042', now });
    const seed = randomBytes(32);
    await flashToken(store, new MemoryTransport(sim), { ...sha256, seed }, { now });
    const spec = { type: 'totp', algorithm: 'sha256', digits: 6, period: 60, counter: 0 } as const;
    const at = new Date(NOW);
    const ahead = generateCode(seed, spec, { at, driftSteps: 2 });
    const r = await verifyDevice(store, new MemoryTransport(sim), ahead, { at });
    expect(r).toMatchObject({ ok: true, driftSteps: 2 });
    const t = (await store.tokens.findBySerial('86596220000042'))[0]!;
    expect((await viewToken(store, t)).driftSteps).toBe(2);
    const wrong = String((Number(ahead) + 1) % 1_000_000).padStart(6, '0');
    await expect(verifyDevice(store, new MemoryTransport(sim), wrong, { at, window: 0 })).rejects.toMatchObject({
      code: 'code-rejected',
      exitCode: 4,
    });
  });

  it('info shows serial, model, the token clock and its offset', async () => {
    const sim = new Token2Simulator({ model: 'token2-fob', serial: '86596000000123', clockOffset: 12, now });
    const v = await deviceInfo(store, new MemoryTransport(sim), { now });
    expect(v).toMatchObject({
      serial: '86596000000123',
      model: 'token2-fob',
      product: 'miniOTP-2-i',
      offsetSeconds: 12,
      inStore: false,
      wipesSeedOnSync: true,
    });
  });
});

describe('parseFlashInput', () => {
  it('names the flag that is wrong', () => {
    expect(() => parseFlashInput({ algorithm: 'sha512' })).toThrow(/--algorithm/);
    expect(() => parseFlashInput({ period: '45' })).toThrow(/--period/);
    expect(() => parseFlashInput({ displayTimeout: '10' })).toThrow(/--display-timeout/);
    expect(() => parseFlashInput({ model: 'token2-molto2' })).toThrow(/--model/);
    expect(() => parseFlashInput({ user: 'alice' })).toThrow(/--user needs --resource/);
    expect(() => parseFlashInput({ seed: encodeBase32(new Uint8Array(64)) })).toThrow(/64 bytes/);
  });
});

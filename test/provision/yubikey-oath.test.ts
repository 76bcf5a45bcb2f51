/**
 * YubiKey OATH services over the simulator in memory: one store token per
 * credential, codes equal to the seed's, the access password used for one
 * VALIDATE (a wrong one writes nothing and leaves the store as it was),
 * overwrite refused without --force, erase, verify, and a batch of keys.
 */
import { describe, expect, it } from 'vitest';
import { generateCode } from '../../src/core/otp.js';
import { createResource } from '../../src/provision/resources.js';
import { addUser } from '../../src/provision/users.js';
import { flashOathCredential, oathSerial, parseOathFlashInput } from '../../src/provision/families/yubikey/oath.js';
import {
  eraseOathCredential,
  listOathCredentials,
  oathInfo,
  verifyOathCredential,
} from '../../src/provision/families/yubikey/oath-admin.js';
import { oathBatchFlasher } from '../../src/provision/families/yubikey/batch.js';
import { runFlashBatch } from '../../src/provision/flash-batch.js';
import { detectFamily } from '../../drivers/registry.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { OathSimulator } from '../../drivers/yubikey/oath-simulator.js';
import { deriveAccessKey } from '../../drivers/yubikey/oath-protocol.js';
import { base32, memoryStore } from './helpers-ss.js';

const seed = Buffer.from('12345678901234567890', 'ascii');

function key(serial = '16000100') {
  const sim = new OathSimulator({ serial });
  return { sim, t: new MemoryTransport(sim), deviceId: Buffer.from(sim.deviceSalt).toString('hex').toUpperCase() };
}

describe('YubiKey OATH services: every credential is its own token', () => {
  it('flashes two credentials (default name from the store serial, and a named one to a user), lists, verifies and erases', async () => {
    const store = memoryStore();
    await createResource(store, { name: 'vpn' });
    await addUser(store, { login: 'alice', resources: ['vpn'] });
    const { sim, t, deviceId } = key();
    const a = await flashOathCredential(store, t, parseOathFlashInput({ seed: base32(seed) }));
    const b = await flashOathCredential(
      store,
      t,
      parseOathFlashInput({
        name: 'alice',
        issuer: 'Corp',
        algorithm: 'sha256',
        digits: '8',
        period: '60',
        resource: 'vpn',
        user: 'alice',
      }),
    );
    expect([a.serial, a.credential, b.serial, b.credential, b.token.user]).toEqual([
      oathSerial(deviceId, 1),
      oathSerial(deviceId, 1),
      oathSerial(deviceId, 2),
      '60/Corp:alice',
      'alice',
    ]);
    expect(await store.tokens.findOne('Yubico', a.serial)).toMatchObject({
      deviceSerial: deviceId,
      profile: 1,
      type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      state: 'programmed',
      hasSeed: true,
    });
    expect(sim.state().credentials.map((c) => c.name)).toEqual([a.serial, '60/Corp:alice']);
    const list = await listOathCredentials(store, t);
    expect(list.credentials.map((c) => [c.name, c.serial, c.user])).toEqual([
      [a.serial, a.serial, null],
      ['60/Corp:alice', b.serial, 'alice'],
    ]);
    const v = await verifyOathCredential(store, t, '60/Corp:alice');
    expect(v).toMatchObject({ serial: b.serial, matches: true });
    // The same name again: refused (exit 5), nothing written; --force replaces it on the same store token.
    const refused = await flashOathCredential(
      store,
      t,
      parseOathFlashInput({ name: 'alice', issuer: 'Corp', period: '60' }),
    ).catch((e) => e);
    expect(refused.exitCode).toBe(5);
    const again = await flashOathCredential(store, t, parseOathFlashInput({ name: 'x', seed: base32(seed) }));
    expect(again.serial).toBe(oathSerial(deviceId, 3));
    const erased = await eraseOathCredential(store, t, a.serial);
    expect(erased).toMatchObject({ serial: a.serial, storeUpdated: true });
    expect(sim.state().credentials.map((c) => c.name)).not.toContain(a.serial);
    expect(await store.tokens.findOne('Yubico', a.serial)).toMatchObject({ hasSeed: false });
    const audit = JSON.stringify(await store.audit.list());
    expect(audit).not.toContain(seed.toString('hex'));
    expect(audit).not.toContain(base32(seed));
  });

  it('the stored seed gives the codes the key gives (HOTP too, from its counter)', async () => {
    const store = memoryStore();
    const { sim, t } = key('16000101');
    const h = await flashOathCredential(
      store,
      t,
      parseOathFlashInput({ name: 'h', type: 'hotp', counter: '7', seed: base32(seed) }),
    );
    const stored = await store.tokens.findOne('Yubico', h.serial);
    expect(stored).toMatchObject({ type: 'hotp', counter: 7 });
    const onKey = sim.process(
      Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x07, 0xa0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01]),
    );
    expect(onKey.at(-1)).toBe(0x00);
    const { OathDriver } = await import('../../drivers/yubikey/oath-driver.js');
    const d = new OathDriver(t);
    await d.open();
    expect(await d.calculate('h', 'hotp', 30)).toBe(generateCode(seed, stored!));
  });

  it('a wrong access password: one VALIDATE, exit 3, nothing written, the store unchanged; the right one writes', async () => {
    const store = memoryStore();
    const { sim, t } = key('16000102');
    sim.setAccessKey(deriveAccessKey('right', sim.deviceSalt));
    const before = { tokens: await store.tokens.count(), audit: (await store.audit.list()).length };
    const sent = t.commandCount;
    const e = await flashOathCredential(store, t, { ...parseOathFlashInput({ name: 'n' }), password: 'wrong' }).catch(
      (x) => x,
    );
    expect(e).toMatchObject({ exitCode: 3, code: 'wrong-password' });
    expect(t.commandCount - sent).toBe(2);
    expect(sim.state().credentials).toEqual([]);
    expect({ tokens: await store.tokens.count(), audit: (await store.audit.list()).length }).toEqual(before);
    const none = await flashOathCredential(store, t, parseOathFlashInput({ name: 'n' })).catch((x) => x);
    expect(none).toMatchObject({ exitCode: 3, code: 'password-required' });
    let asked = 0;
    const ok = await flashOathCredential(store, t, {
      ...parseOathFlashInput({ name: 'n' }),
      password: async () => (asked++, 'right'),
    });
    expect([ok.credential, asked]).toEqual(['n', 1]);
    expect(await oathInfo(store, t)).toMatchObject({ passwordSet: true, credentialCount: null });
    expect(await oathInfo(store, t, { password: 'right' })).toMatchObject({ passwordSet: true, credentialCount: 1 });
  });

  it('a YubiKey is told by its answer to SELECT of the OATH application (generic ATR: the answer, not the ATR, tells it)', async () => {
    const sim = new OathSimulator({ serial: '1' });
    const sent: string[] = [];
    const device = {
      atr: Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]),
      process: (a: Uint8Array) => (sent.push(Buffer.from(a).toString('hex')), sim.process(a)),
    };
    const d = await detectFamily(new MemoryTransport(device));
    expect([d.family.name, d.model]).toEqual(['yubikey', 'yubikey-oath']);
    // The other families' probes first (their detection unchanged), then one SELECT; nothing written, no credential read.
    expect(sent.at(-1)).toBe('00a4040007a0000005272101');
    expect(sim.state()).toMatchObject({ credentials: [] });
  });

  it('the station flash without a model refuses a YubiKey detection tells, and writes nothing to it', async () => {
    const { formFlasher } = await import('../../src/provision/flash-families.js');
    const { sim, t } = key();
    const flasher = await formFlasher({ algorithm: 'sha1', period: '30', displayTimeout: '30' });
    await expect(flasher.flash(memoryStore(), t, {})).rejects.toMatchObject({
      code: 'wrong-family',
      message: expect.stringMatching(/is a yubikey-oath \(yubikey\): the station does not flash it/),
    });
    expect(sim.state()).toMatchObject({ credentials: [] });
  });

  it('bad flash options are usage errors naming the flag', () => {
    expect(() => parseOathFlashInput({ digits: '9' })).toThrow(/--digits/);
    expect(() => parseOathFlashInput({ algorithm: 'md5' })).toThrow(/--algorithm/);
    expect(() => parseOathFlashInput({ type: 'hotp', period: '60' })).toThrow(/--period/);
    expect(() => parseOathFlashInput({ issuer: 'a:b' })).toThrow(/--issuer/);
    expect(() => parseOathFlashInput({ name: 'x'.repeat(70) })).toThrow(/--name/);
  });

  it('a batch: one credential per key, all in one flash batch; a key that fails is reported and the run goes on', async () => {
    const store = memoryStore();
    const keys = [key('16000200'), key('16000201'), key('16000202')];
    keys[1]!.sim.setAccessKey(deriveAccessKey('pw', keys[1]!.sim.deviceSalt));
    let i = 0;
    const r = await runFlashBatch(
      store,
      { next: async () => keys[i++]!.t },
      oathBatchFlasher(parseOathFlashInput({})),
      { count: 3, sourceName: 'test', awaitRemoval: async () => {} },
    );
    expect(r.flashed.map((f) => f.serial)).toEqual([
      oathSerial(keys[0]!.deviceId, 1),
      oathSerial(keys[2]!.deviceId, 1),
    ]);
    expect(r.failed).toMatchObject([{ index: 2, error: 'password-required' }]);
    expect(r.counts).toEqual({ flashed: 2, skipped: 0, failed: 1, cancelled: 0 });
    expect(await store.batches.get(r.batch)).toMatchObject({ format: 'yubikey-oath', imported: 2, failed: 1 });
    expect(new Set(r.flashed.map((f) => f.batch))).toEqual(new Set([r.batch]));
    expect(await store.tokens.count()).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import {
  flashProfile,
  parseProfileFlashInput,
  profileSerial,
} from '../../src/provision/families/token2-molto2/profiles.js';
import { eraseProfile, listProfiles, syncProfiles } from '../../src/provision/families/token2-molto2/profile-admin.js';
import {
  protectimusFlash,
  protectimusSync,
  protectimusVerify,
} from '../../src/provision/families/protectimus/service.js';
import { createResource } from '../../src/provision/resources.js';
import { addToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { Molto2Simulator } from '../../drivers/token2-molto2/simulator.js';
import { ProtectimusSimulator } from '../../drivers/protectimus/simulator.js';
import { base32, memoryStore } from './helpers-ss.js';

const seed = Buffer.from('12345678901234567890', 'ascii');

describe('Molto2 services: every profile is its own token', () => {
  it('flashes two profiles to two users, lists them with their store tokens, refuses an overwrite, erases one', async () => {
    const store = memoryStore();
    await createResource(store, { name: 'vpn' });
    for (const u of ['alice', 'bob']) await addUser(store, { login: u, resources: ['vpn'] });
    const sim = new Molto2Simulator({ serial: '2310000077' });
    const t = new MemoryTransport(sim);
    const a = await flashProfile(
      store,
      t,
      parseProfileFlashInput({
        profile: '3',
        digits: '8',
        algorithm: 'sha256',
        title: 'VPN',
        resource: 'vpn',
        user: 'alice',
        seed: base32(seed),
      }),
    );
    const b = await flashProfile(store, t, parseProfileFlashInput({ profile: '7', resource: 'vpn', user: 'bob' }));
    expect([a.serial, a.token.user, b.serial, b.token.user]).toEqual([
      '2310000077-03',
      'alice',
      '2310000077-07',
      'bob',
    ]);
    expect(await store.tokens.findOne('Token2', profileSerial('2310000077', 3))).toMatchObject({
      deviceSerial: '2310000077',
      profile: 3,
      digits: 8,
      algorithm: 'sha256',
      state: 'assigned',
    });
    expect(Buffer.from(sim.heldSeed(3)!)).toEqual(seed);
    const list = await listProfiles(store, t);
    expect(list.profiles.filter((p) => p.seedPresent).map((p) => [p.profile, p.serial, p.user])).toEqual([
      [3, '2310000077-03', 'alice'],
      [7, '2310000077-07', 'bob'],
    ]);
    const refused = await flashProfile(store, t, parseProfileFlashInput({ profile: '3' })).catch((e) => e);
    expect(refused.exitCode).toBe(5);
    expect(Buffer.from(sim.heldSeed(3)!)).toEqual(seed);
    // An assigned token cannot go back to stock: unassign first, nothing erased.
    const blocked = await eraseProfile(store, t, 3).catch((e) => e);
    expect(blocked.exitCode).toBe(4);
    expect(sim.heldSeed(3)).not.toBeNull();
    const audit = await store.audit.list();
    expect(audit.filter((r) => r.action === 'token.flash').map((r) => r.subject)).toEqual([
      'token:2310000077-03',
      'token:2310000077-07',
    ]);
    expect(JSON.stringify(audit)).not.toContain(seed.toString('hex'));
  });

  it('erases a programmed profile back to stock and syncs every clock', async () => {
    const store = memoryStore();
    const sim = new Molto2Simulator({ serial: '2310000078', clockOffset: 50 });
    const t = new MemoryTransport(sim);
    await flashProfile(store, t, parseProfileFlashInput({ profile: '0' }));
    const r = await syncProfiles(store, t, 'all');
    // Real time: a second can turn between the token's answer and the host's clock read.
    expect(Math.abs(r.offsetsBefore[1]! - 50)).toBeLessThanOrEqual(1);
    expect(Math.abs(sim.profileState(99).clockOffset)).toBeLessThanOrEqual(1);
    expect((await eraseProfile(store, t, 0)).storeUpdated).toBe(true);
    expect(await store.tokens.findOne('Token2', '2310000078-00')).toMatchObject({ state: 'in_stock', hasSeed: false });
    expect(sim.heldSeed(0)).toBeNull();
  });

  it('a wrong --customer-key fails with the tries left and writes a flash-failed audit row', async () => {
    const store = memoryStore();
    const t = new MemoryTransport(new Molto2Simulator({ serial: '2310000079' }));
    const e = await flashProfile(store, t, parseProfileFlashInput({ profile: '1', customerKey: 'wrong' })).catch(
      (x) => x,
    );
    expect(e.code).toBe('auth-failed');
    const row = (await store.audit.list()).find((x) => x.action === 'token.flash-failed')!;
    expect(row.details).toMatchObject({ triesLeft: 9 });
    expect(JSON.stringify(row)).not.toMatch(/wrong/);
  });
});

describe('Protectimus services', () => {
  it('verify reads the drift from the token, sync sets it back to 0, the UID finds the token the next time', async () => {
    const store = memoryStore();
    const sim = new ProtectimusSimulator({ serial: '70100000077', clockOffset: -60 });
    const t = new MemoryTransport(sim);
    await addToken(store, {
      serial: '70100000077',
      secret: base32(seed),
      manufacturer: 'Protectimus',
      model: 'protectimus-slim',
      kind: 'programmable',
    });
    const v = await protectimusVerify(store, t, { model: 'protectimus-slim', serial: '70100000077' });
    expect(v).toMatchObject({ driftSteps: -2, driftSeconds: -60 });
    const s = await protectimusSync(store, t, { model: 'protectimus-slim' });
    expect(s).toMatchObject({ serial: '70100000077', driftBefore: -2, driftAfter: 0 });
    expect((await protectimusVerify(store, t, { model: 'protectimus-slim' })).driftSteps).toBe(0);
    expect(() => protectimusFlash('protectimus-flex')).toThrow(/not public/);
  });
});

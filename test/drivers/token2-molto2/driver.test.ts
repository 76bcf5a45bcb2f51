import { describe, expect, it } from 'vitest';
import {
  Molto2AuthError,
  Molto2Driver,
  Molto2EmptySlotError,
  Molto2WriteError,
} from '../../../drivers/token2-molto2/driver.js';
import { parseCustomerKey } from '../../../drivers/token2-molto2/protocol.js';
import { Molto2Simulator } from '../../../drivers/token2-molto2/simulator.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import type { ApduTransport } from '../../../src/transport/types.js';

const NOW = 1_767_225_600_000;
const now = () => NOW;
const seed = Buffer.from('12345678901234567890123456789012', 'ascii');
const settings = { algorithm: 'sha256', digits: 8, period: 30, displayTimeout: 60 } as const;

function spy(t: ApduTransport) {
  const sent: string[] = [];
  const orig = t.transmit.bind(t);
  t.transmit = async (apdu, o) => {
    sent.push(Buffer.from(apdu.subarray(0, 2)).toString('hex').toUpperCase());
    return orig(apdu, o);
  };
  return sent;
}

describe('Molto2Driver against the simulator', () => {
  it('writes seed, title and config to profile 3 and reads them back; other profiles stay empty', async () => {
    const sim = new Molto2Simulator({ clockOffset: -120, now });
    const t = new MemoryTransport(sim);
    const sent = spy(t);
    const out = await new Molto2Driver(t, { now }).writeProfile(3, seed, settings, { title: 'VPN' });
    expect(sent).toEqual(['8041', '8041', '804B', '80CE', '84C5', '84D5', '84D4', '8041']);
    expect(out.before.seedPresent).toBe(false);
    expect(out.after).toMatchObject({
      profile: 3,
      title: 'VPN',
      algorithm: 'sha256',
      digits: 8,
      period: 30,
      seedPresent: true,
      clockOffset: 0,
    });
    expect(Buffer.from(sim.heldSeed(3)!).toString('ascii')).toBe(seed.toString('ascii'));
    expect(sim.heldSeed(2)).toBeNull();
    expect(sim.profileState(3)).toMatchObject({ displayTimeout: 60, digits: 8 });
    expect(sim.profileState(4).clockOffset).toBe(-120);
  });

  it('refuses to overwrite a profile holding a seed (exit 5) with nothing sent after the read; --force deletes it first', async () => {
    const sim = new Molto2Simulator({ now });
    const t = new MemoryTransport(sim);
    const d = new Molto2Driver(t, { now });
    await d.writeProfile(3, seed, settings);
    const sent = spy(t);
    const err = await d.writeProfile(3, new Uint8Array(20).fill(9), settings).catch((e) => e);
    expect(err.exitCode).toBe(5);
    expect(err.code).toBe('profile-has-seed');
    expect(sent).toEqual(['8041', '8041']);
    expect(Buffer.from(sim.heldSeed(3)!).toString('ascii')).toBe(seed.toString('ascii'));
    const forced = await d.writeProfile(3, new Uint8Array(20).fill(9), settings, { force: true });
    expect(forced.overwrote).toBe(true);
    expect(sent.slice(2)).toEqual(['8041', '8041', '804B', '80CE', '80E6', '84C5', '84D4', '8041']);
    expect(sim.heldSeed(3)).toEqual(new Uint8Array(20).fill(9));
  });

  it('a wrong customer key answers 63NN with the tries left; one attempt only; the key blocks at 0', async () => {
    const sim = new Molto2Simulator({ now, tries: 2 });
    const t = new MemoryTransport(sim);
    const sent = spy(t);
    const d = new Molto2Driver(t, { now, customerKey: parseCustomerKey('not-the-key') });
    const err = await d.writeProfile(1, seed, settings).catch((e) => e);
    expect(err).toBeInstanceOf(Molto2AuthError);
    expect(err).toMatchObject({ triesLeft: 1, sw: 0x6301, exitCode: 3 });
    expect(err.message).toMatch(/1 try left/);
    expect(sent.filter((s) => s === '80CE')).toHaveLength(1);
    const again = await d.syncProfiles([1]).catch((e) => e);
    expect(again.triesLeft).toBe(0);
    expect(again.message).toMatch(/blocked/);
    // Blocked: even the right key is refused now.
    const right = await new Molto2Driver(t, { now }).syncProfiles([1]).catch((e) => e);
    expect(right).toBeInstanceOf(Molto2AuthError);
    expect(sim.state().blocked).toBe(true);
  });

  it('a changed customer key is needed afterwards; the factory key then fails', async () => {
    const sim = new Molto2Simulator({ now });
    const t = new MemoryTransport(sim);
    const r = await new Molto2Driver(t, { now }).changeCustomerKey(parseCustomerKey('site-key-2026'));
    expect(r.waitingForButton).toBe(true);
    expect(sim.state().customerKeyIsFactory).toBe(false);
    await expect(new Molto2Driver(t, { now }).syncProfiles([0])).rejects.toBeInstanceOf(Molto2AuthError);
    await expect(
      new Molto2Driver(t, { now, customerKey: parseCustomerKey('site-key-2026') }).syncProfiles([0]),
    ).resolves.toMatchObject({ offsetAfter: 0 });
  });

  it('lists 100 profiles on a Molto2v2 and 50 on a Molto2', async () => {
    const v2 = await new Molto2Driver(new MemoryTransport(new Molto2Simulator({ now })), { now }).listProfiles();
    expect(v2.variant).toBe('molto2v2');
    expect(v2.profiles).toHaveLength(100);
    const v1 = await new Molto2Driver(new MemoryTransport(new Molto2Simulator({ now, variant: 'molto2' })), {
      now,
    }).listProfiles();
    expect(v1.variant).toBe('molto2');
    expect(v1.profiles).toHaveLength(50);
    expect(v1.profiles.every((p) => !p.seedPresent)).toBe(true);
  });

  it('syncs every profile clock', async () => {
    const sim = new Molto2Simulator({ now, clockOffset: 75 });
    const t = new MemoryTransport(sim);
    const sent = spy(t);
    const r = await new Molto2Driver(t, { now }).syncProfiles('all');
    expect(r.profiles).toHaveLength(100);
    expect(r.offsetsBefore).toEqual([75, 75]);
    expect(r.offsetAfter).toBe(0);
    expect(sent.filter((s) => s === '84D4')).toHaveLength(100);
    for (const p of [0, 42, 99]) expect(sim.profileState(p).clockOffset).toBe(0);
  });

  it('erases a seed; an empty slot answers 6A83 (exit 4)', async () => {
    const sim = new Molto2Simulator({ now });
    const t = new MemoryTransport(sim);
    const d = new Molto2Driver(t, { now });
    await d.writeProfile(3, seed, settings);
    await d.deleteSeed(3);
    expect(sim.heldSeed(3)).toBeNull();
    const err = await d.deleteSeed(3).catch((e) => e);
    expect(err).toBeInstanceOf(Molto2EmptySlotError);
    expect(err.exitCode).toBe(4);
    expect(sim.state().lastStatus).toBe('6A83');
  });

  it('factory reset answers 9060 and, once the button is pressed, empties every profile', async () => {
    const sim = new Molto2Simulator({ now });
    const t = new MemoryTransport(sim);
    const d = new Molto2Driver(t, { now });
    await d.writeProfile(0, seed, settings);
    const r = await d.factoryReset();
    expect(r.waitingForButton).toBe(true);
    expect(sim.state().lastStatus).toBe('9060');
    expect(sim.heldSeed(0)).toBeNull();
  });

  it('locks and unlocks the screen', async () => {
    const sim = new Molto2Simulator({ now });
    const d = new Molto2Driver(new MemoryTransport(sim), { now });
    await d.setScreenLock(true);
    expect(sim.state().screenLocked).toBe(true);
    await d.setScreenLock(false);
    expect(sim.state().screenLocked).toBe(false);
  });

  it('says what was written when the token leaves mid-write', async () => {
    const sim = new Molto2Simulator({ now });
    // 1 info, 2 read, 3 challenge, 4 auth, 5 seed, 6 config <- removed here
    const err = await new Molto2Driver(new MemoryTransport(sim, { removeBeforeCommand: 6 }), { now })
      .writeProfile(5, seed, settings)
      .catch((e) => e);
    expect(err).toBeInstanceOf(Molto2WriteError);
    expect(err).toMatchObject({ code: 'card-removed', step: 'writeConfig', written: ['writeSeed'], exitCode: 3 });
    expect(err.message).toMatch(/Already written: the seed/);
  });
});

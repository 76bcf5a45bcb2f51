/**
 * The verb table end to end without PC/SC: each family's device is told by
 * its answers (simulators with a generic contactless ATR), then its handler
 * runs with the one context the CLI gives, against a store in memory.
 */
import { describe, expect, it } from 'vitest';
import { checkVerb, detectFamily } from '../../drivers/registry.js';
import { ProtectimusSimulator } from '../../drivers/protectimus/simulator.js';
import { Molto2Simulator } from '../../drivers/token2-molto2/simulator.js';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { verbHandler } from '../../src/provision/families/index.js';
import { noPrompter, type DeviceVerbContext } from '../../src/provision/families/verb-types.js';
import type { Store } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { memoryStore } from './helpers-ss.js';

const GENERIC_ATR = Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]);

/** Detects the device, then runs `verb` as `device <verb>` would; returns what it printed as the result. */
async function run(
  store: Store,
  sim: { process(a: Uint8Array): Uint8Array },
  verb: Parameters<typeof verbHandler>[1],
  options: Record<string, string | boolean | undefined> = {},
) {
  const transport = new MemoryTransport({ atr: GENERIC_ATR, process: (a) => sim.process(a) });
  const { family, model } = await detectFamily(transport);
  checkVerb(family, verb, model);
  const results: unknown[] = [];
  const ctx: DeviceVerbContext = {
    family,
    model,
    modelGiven: false,
    transport,
    options,
    yes: true,
    json: true,
    store,
    output: { result: (v) => void results.push(v), info: () => {}, interactive: false },
    step: () => {},
    stopProgress: () => {},
    prompt: noPrompter,
  };
  await (await verbHandler(family, verb))!(ctx);
  return results[0] as Record<string, unknown>;
}

describe('device verbs through the verb table', () => {
  it('Token2 NFC: flash, then info finds it in the store, verify checks a code from its seed', async () => {
    const store = memoryStore();
    const sim = new Token2Simulator({ model: 'token2-card' });
    const f = await run(store, sim, 'flash', { algorithm: 'sha256', period: '60', displayTimeout: '60' });
    expect(f).toMatchObject({ model: 'token2-card', algorithm: 'sha256', period: 60 });
    expect(await run(store, sim, 'info')).toMatchObject({ serial: f.serial, inStore: true, state: 'programmed' });
    const { generateCode } = await import('../../src/core/otp.js');
    const code = generateCode(sim.heldSeed()!, {
      type: 'totp',
      algorithm: 'sha256',
      digits: 6,
      period: 60,
      counter: 0,
    });
    expect(await run(store, sim, 'verify', { code, window: '2' })).toMatchObject({
      serial: f.serial,
      ok: true,
      driftSteps: 0,
    });
  });

  it('Molto2: flash a profile, list it, sync its clock, erase it', async () => {
    const store = memoryStore();
    const sim = new Molto2Simulator({ serial: '2310000077' });
    expect(await run(store, sim, 'flash', { profile: '4', title: 'VPN' })).toMatchObject({
      serial: '2310000077-04',
      profile: 4,
      title: 'VPN',
    });
    const list = await run(store, sim, 'profiles');
    expect(
      (list.profiles as { profile: number; seedPresent: boolean }[]).filter((p) => p.seedPresent).map((p) => p.profile),
    ).toEqual([4]);
    expect(await run(store, sim, 'sync', { profile: '4' })).toMatchObject({ profiles: [4] });
    await expect(run(store, sim, 'sync')).rejects.toMatchObject({ code: 'profile-needed' });
    expect(await run(store, sim, 'erase', { profile: '4' })).toMatchObject({ profile: 4, storeUpdated: true });
    expect(sim.heldSeed(4)).toBeNull();
  });

  it('Protectimus: info reads the token; flash is refused as not public (exit 5)', async () => {
    const store = memoryStore();
    const sim = new ProtectimusSimulator({ model: 'protectimus-slim' });
    expect(await run(store, sim, 'info')).toMatchObject({
      model: 'protectimus-slim',
      hardwareScheme: '70',
      inStore: false,
    });
    await expect(run(store, sim, 'flash')).rejects.toMatchObject({ exitCode: 5, code: 'seed-write-not-public' });
  });
});

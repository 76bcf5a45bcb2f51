/**
 * The family contract, provision side: a throw-away family given as only its
 * driver module and its provision module (test/provision/toy-family/, loaded
 * through TOKENSMITH_FAMILY_MODULES as drivers/toy/ and
 * src/provision/families/toy/ would be through their registry lines) is
 * detected, answers `device info` and `device flash` through the verb table,
 * is listed and flashed by the station, runs in a batch with the batch's
 * counts, and its recorded flash replays. No other file names it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const HERE = fileURLToPath(new URL('./toy-family/', import.meta.url));
// Before any registry is loaded: the two modules are the family's "registry lines".
process.env.TOKENSMITH_FAMILY_MODULES = [join(HERE, 'driver.ts'), join(HERE, 'provision.ts')].join(':');

const { checkVerb, detectFamily, families } = await import('../../drivers/registry.js');
const { provisionFamilies, verbHandler } = await import('../../src/provision/families/index.js');
const { noPrompter } = await import('../../src/provision/families/verb-types.js');
const { formFlasher, stationModels } = await import('../../src/provision/flash-families.js');
const { runFlashBatch } = await import('../../src/provision/flash-batch.js');
const { startRecording, verifyCassette } = await import('../../src/provision/cassettes.js');
const { MemoryTransport } = await import('../../src/transport/memory.js');
const { NoTokenError } = await import('../../src/transport/errors.js');
const { ToyCard } = await import('./toy-family/driver.js');
const { memoryStore } = await import('./helpers-ss.js');
type Store = import('../../src/store/types.js').Store;
type Verb = import('../../drivers/family.js').DeviceVerb;

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-toy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const onReader = (card: InstanceType<typeof ToyCard>) => new MemoryTransport(card);

/** `device <verb>` without --model, as the CLI's session runs it: detect, check, then the family's handler. */
async function deviceVerb(store: Store, card: InstanceType<typeof ToyCard>, verb: Verb) {
  const transport = onReader(card);
  const { family, model } = await detectFamily(transport);
  checkVerb(family, verb, model);
  const results: unknown[] = [];
  await (await verbHandler(family, verb))!({
    family,
    model,
    modelGiven: false,
    transport,
    options: {},
    yes: true,
    json: true,
    store,
    output: { result: (v) => void results.push(v), info: () => {}, interactive: false },
    step: () => {},
    stopProgress: () => {},
    prompt: noPrompter,
  });
  return results[0] as Record<string, unknown>;
}

describe('a throw-away family added as its two folders', () => {
  it('both registries list it, after the built-in families', async () => {
    expect((await families()).map((f) => f.name).at(-1)).toBe('toy');
    expect((await provisionFamilies()).map((f) => f.name).at(-1)).toBe('toy');
  });

  it('device flash and device info go through its handlers and write and read the store', async () => {
    const store = memoryStore();
    const card = new ToyCard('TOY-1');
    expect(await deviceVerb(store, card, 'info')).toEqual({ serial: 'TOY-1', inStore: false, state: null });
    expect(await deviceVerb(store, card, 'flash')).toMatchObject({ serial: 'TOY-1', model: 'toy-token' });
    expect(card.seed).toHaveLength(20);
    expect(await deviceVerb(store, card, 'info')).toEqual({ serial: 'TOY-1', inStore: true, state: 'programmed' });
    await store.close();
  });

  it('the station lists its model as flashable and flashes it, by model and by detection', async () => {
    expect((await stationModels()).find((m) => m.model === 'toy-token')).toMatchObject({
      family: 'toy',
      flashable: true,
      fields: [],
      digits: [6],
      products: [],
    });
    const store = memoryStore();
    const byModel = await (await formFlasher({ model: 'toy-token' })).flash(store, onReader(new ToyCard('TOY-2')), {});
    const detected = await (await formFlasher({})).flash(store, onReader(new ToyCard('TOY-3')), {});
    expect([byModel.serial, detected.serial]).toEqual(['TOY-2', 'TOY-3']);
    expect(await store.tokens.findOne('Toy', 'TOY-3')).not.toBeNull();
    await store.close();
  });

  it('a batch of its tokens runs on the one flash path, with the same counts', async () => {
    const store = memoryStore();
    await (await formFlasher({ model: 'toy-token' })).flash(store, onReader(new ToyCard('TOY-11')), {});
    const cards = ['TOY-10', 'TOY-11', 'TOY-12'].map((s) => new ToyCard(s));
    const r = await runFlashBatch(
      store,
      { next: async (i) => (cards[i] ? onReader(cards[i]) : Promise.reject(new NoTokenError('no token'))) },
      await formFlasher({ model: 'toy-token' }),
      { count: null, sourceName: 'test', awaitRemoval: async () => undefined },
    );
    expect(r.counts).toEqual({ flashed: 2, skipped: 1, failed: 0, cancelled: 0 });
    expect(await store.batches.get(r.batch)).toMatchObject({ imported: 2, skipped: 1, failed: 0, status: 'done' });
    await store.close();
  });

  it('its recorded flash replays through its driver, the seed redacted', async () => {
    const store = memoryStore();
    const path = join(dir, 'toy-flash.cassette');
    const session = startRecording(onReader(new ToyCard('TOY-20')), path, {
      source: 'simulator',
      operation: 'flash',
      params: {},
      seed: new Uint8Array(20),
      model: 'toy-token',
    });
    await (await formFlasher({ model: 'toy-token' })).flash(store, session.transport, {});
    session.save({ ok: true });
    expect(await verifyCassette(path)).toMatchObject({ ok: true, operation: 'flash', commands: 2 });
    await store.close();
  });
});

/**
 * `device flash --batch`, the family side, for a family that gives only its
 * station flasher and a `batch` line (the throw-away toy family, loaded
 * through TOKENSMITH_FAMILY_MODULES): with --model it is flashed through the
 * CLI's batch runner with the service's counts, without --model each toy is
 * told by what it answers, --users is refused as the family's batch says, and
 * a family with no batch is refused with the list of what --batch flashes.
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = fileURLToPath(new URL('./', import.meta.url));
// Before any registry is loaded: the toy's driver, and its provision module with a batch line.
process.env.TOKENSMITH_FAMILY_MODULES = [
  join(HERE, 'toy-family', 'driver.ts'),
  join(HERE, 'toy-batch-provision.ts'),
].join(':');

const { runCliBatch } = await import('../../src/cli/commands/batch-flash.js');
const { Output } = await import('../../src/cli/context.js');
const { batchFamilyOf, batchFlasher } = await import('../../src/provision/batch-families.js');
const { noPrompter } = await import('../../src/provision/families/verb-types.js');
const { BatchStop } = await import('../../src/provision/flash-batch.js');
const { MemoryTransport } = await import('../../src/transport/memory.js');
const { NoTokenError } = await import('../../src/transport/errors.js');
const { ToyCard } = await import('./toy-family/driver.js');
const { memoryStore } = await import('./helpers-ss.js');
type Store = import('../../src/store/types.js').Store;
type BatchEvent = import('../../src/provision/flash-batch.js').BatchEvent;
type DeviceOpts = import('../../src/provision/device-session.js').DeviceOpts;

/** `device flash --batch` over these toys (no terminal, --yes): the report as --json prints it, and stderr. */
async function cliBatch(store: Store, o: DeviceOpts, serials: string[]) {
  const cards = serials.map((s) => new ToyCard(s));
  const output = { result: () => {}, info: () => {}, interactive: false };
  const base = {
    options: o,
    yes: true,
    json: true,
    output,
    step: () => {},
    stopProgress: () => {},
    prompt: noPrompter,
  };
  const flasher = await batchFlasher(await batchFamilyOf(o), { ...base, store });
  let stdout = '';
  let stderr = '';
  const to = (add: (s: string) => void) => new Writable({ write: (c, _e, cb) => (add(String(c)), cb()) });
  const transports = cards.map((c) => new MemoryTransport(c));
  const source = {
    next: async (i: number) => transports[i] ?? Promise.reject(new NoTokenError('no token within --wait')),
  };
  // The operator takes each toy off when told to.
  const onEvent = (e: BatchEvent) => e.type === 'take-off' && transports[e.index - 1]!.remove();
  const out = new Output(
    true,
    to((s) => (stdout += s)),
    to((s) => (stderr += s)),
  );
  await runCliBatch(store, source, flasher, { count: null, stop: new BatchStop(), onEvent }, out);
  return {
    report: JSON.parse(stdout) as { batch: number; counts: unknown; flashed: { serial: string }[] },
    stderr,
    cards,
  };
}

describe('device flash --batch for a family that gives only its station flasher and a batch line', () => {
  it('--model toy-token: each toy flashed through its station flasher, counted, one batch record', async () => {
    const store = memoryStore();
    try {
      const first = await cliBatch(store, { model: 'toy-token', batch: true }, ['TOY-30', 'TOY-31']);
      expect(first.report.counts).toEqual({ flashed: 2, skipped: 0, failed: 0, cancelled: 0 });
      expect(first.report.flashed.map((f) => f.serial)).toEqual(['TOY-30', 'TOY-31']);
      expect(first.cards.every((c) => c.seed?.length === 20)).toBe(true);
      expect(first.stderr).toMatch(/#2: flashed TOY-31 \(toy-token\) {2}\[done 2 \/ failed 0 \/ skipped 0\]/);
      expect(await store.batches.get(first.report.batch)).toMatchObject({ format: 'toy', imported: 2, status: 'done' });
      // A second run over the same toys skips them: the store holds their seeds.
      const again = await cliBatch(store, { model: 'toy-token', batch: true }, ['TOY-30', 'TOY-31']);
      expect(again.report.counts).toEqual({ flashed: 0, skipped: 2, failed: 0, cancelled: 0 });
      expect(again.cards.every((c) => c.seed === null)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('without --model each toy is told by what it answers', async () => {
    const store = memoryStore();
    try {
      const r = await cliBatch(store, { batch: '1' }, ['TOY-40']);
      expect(r.report.flashed.map((f) => f.serial)).toEqual(['TOY-40']);
      expect(await store.batches.get(r.report.batch)).toMatchObject({ format: 'mixed', imported: 1 });
    } finally {
      await store.close();
    }
  });

  it('--users is refused as its batch says; a family without a batch is refused naming what --batch flashes', async () => {
    await expect(batchFamilyOf({ model: 'toy-token', users: 'u.csv', resource: 'R' })).rejects.toMatchObject({
      code: 'no-such-flag',
      message: expect.stringMatching(/^toy-token has no --users/),
    });
    await expect(batchFamilyOf({ model: 'token2-molto2', batch: true })).rejects.toMatchObject({
      code: 'no-such-flag',
      message: expect.stringMatching(/^token2-molto2 has no --batch \(--batch flashes .*; toy tokens;/),
    });
  });
});

describe('a batch without --model and a token of a family that does not batch on the reader', () => {
  it('is refused with what such a batch flashes and the single flash to use, not the station advice', async () => {
    const { Molto2Simulator } = await import('../../drivers/token2-molto2/simulator.js');
    const store = memoryStore();
    try {
      const o: DeviceOpts = { batch: true };
      const base = { options: o, yes: true, json: true, step: () => {}, stopProgress: () => {}, prompt: noPrompter };
      const output = { result: () => {}, info: () => {}, interactive: false };
      const flasher = await batchFlasher(undefined, { ...base, output, store });
      const molto2 = new MemoryTransport(new Molto2Simulator({ serial: '2310000091' }), { readerName: 'R 00 00' });
      const refused = flasher.flash(store, molto2, {});
      await expect(refused).rejects.toMatchObject({ code: 'wrong-family' });
      await expect(refused).rejects.toThrow(
        /a batch without --model flashes .*toy tokens.*device flash --model token2-molto2/,
      );
      await expect(refused).rejects.not.toThrow(/choose the model|the station/);
    } finally {
      await store.close();
    }
  });
});

describe('--users needs --resource, checked once the settings are complete', () => {
  /** A person at a terminal who picks the first choice and answers `resource` to the Resource question. */
  const answering = (resource: string) => ({
    select: async (o: { choices: readonly { value: string }[] }) => o.choices[0]!.value,
    input: async (o: { message: string }) => (o.message.startsWith('Resource') ? resource : ''),
    confirm: async () => true,
    password: async () => '',
  });
  const flasherFor = async (resource: string) => {
    const store = memoryStore();
    const o: DeviceOpts = { model: 'token2-card', batch: true, users: 'users.csv' };
    const output = { result: () => {}, info: () => {}, interactive: true };
    const base = { options: o, yes: false, json: false, step: () => {}, stopProgress: () => {}, output, store };
    try {
      return await batchFlasher(await batchFamilyOf(o), { ...base, prompt: answering(resource) as never });
    } finally {
      await store.close();
    }
  };

  it('a Resource named at the prompt is enough; none named is refused', async () => {
    await expect(flasherFor('Staff')).resolves.toMatchObject({ format: 'token2-nfc' });
    await expect(flasherFor('')).rejects.toThrow(/--users needs --resource/);
  });
});

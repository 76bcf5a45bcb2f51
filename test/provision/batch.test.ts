import { describe, expect, it } from 'vitest';
import { BatchStop, runFlashBatch, type FlashBatchOptions } from '../../src/provision/flash-batch.js';
import { token2Flasher, type FlashResult } from '../../src/provision/families/token2-nfc/flash.js';
import type { Store } from '../../src/store/types.js';
import type { ApduTransport } from '../../src/transport/types.js';
import { createResource } from '../../src/provision/resources.js';
import { addUser } from '../../src/provision/users.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { NoTokenError } from '../../src/transport/errors.js';
import { UsageError } from '../../src/core/errors.js';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { HeldTransport } from './batch-cards.js';
import { memoryStore } from './helpers-ss.js';

const input = { algorithm: 'sha1', period: 30, displayTimeout: 30 } as const;

/** A pile of simulated cards: the nth call gives the nth card, then "no token". */
function pile(n: number, first = 1) {
  const sims = Array.from(
    { length: n },
    (_, i) => new Token2Simulator({ model: 'token2-card', serial: `865962200${String(first + i).padStart(5, '0')}` }),
  );
  return {
    sims,
    next: async (i: number) => (sims[i] ? new MemoryTransport(sims[i]!) : Promise.reject(new NoTokenError('no token'))),
  };
}

/** The service with Token2 cards, as `device flash --batch` runs it. */
function flashBatch(
  store: Store,
  count: number | null,
  next: (i: number) => Promise<ApduTransport>,
  inp: typeof input & { resource?: string },
  o: Partial<FlashBatchOptions> = {},
) {
  // The operator takes each card off as soon as it is asked to.
  return runFlashBatch<FlashResult>(store, { next }, token2Flasher(inp), {
    count,
    sourceName: 'test',
    awaitRemoval: async (t) => (t as MemoryTransport).remove(),
    ...o,
  });
}

describe('flashBatch with in-memory simulators', () => {
  it('flashes a pile into one batch, each with its own seed; a second run skips every token the store holds a seed for', async () => {
    const store = memoryStore();
    const a = pile(5);
    const counts: string[] = [];
    const r = await flashBatch(store, 5, a.next, input, {
      onEvent: (e) => e.type === 'token' && counts.push(`${e.counts.flashed}/${e.counts.failed}/${e.counts.skipped}`),
    });
    expect(r.flashed).toHaveLength(5);
    expect(counts).toEqual(['1/0/0', '2/0/0', '3/0/0', '4/0/0', '5/0/0']);
    expect(new Set(a.sims.map((s) => s.state().seedHex)).size).toBe(5);
    expect(await store.tokens.count({ batchId: r.batch })).toBe(5);
    const again = await flashBatch(store, 5, pile(5).next, input);
    expect(again.flashed).toHaveLength(0);
    expect(again.skipped.map((s) => s.serial)).toEqual(a.sims.map((s) => s.serial));
    expect(await store.batches.get(again.batch)).toMatchObject({ imported: 0, skipped: 5, failed: 0, status: 'done' });
    await store.close();
  });

  it("runs the post-flash step once per flashed token, with the token registered; its error is that token's failure", async () => {
    const store = memoryStore();
    const seen: string[] = [];
    const r = await flashBatch(store, 3, pile(3).next, input, {
      afterFlash: async (st, flashed) => {
        // The token is in the store when the step runs.
        expect((await st.tokens.findOne('Token2', flashed.serial))?.state).toBe(flashed.token.state);
        seen.push(flashed.serial);
        if (seen.length === 2) throw new UsageError('the MFA server refused it', 'activation-failed');
      },
    });
    expect(seen).toEqual(['86596220000001', '86596220000002', '86596220000003']);
    expect(r.counts).toMatchObject({ flashed: 2, failed: 1 });
    expect(r.failed).toEqual([
      { index: 2, serial: '86596220000002', error: 'activation-failed', message: 'the MFA server refused it' },
    ]);
    await store.close();
  });

  it('assigns to the users in order; a skipped token does not use up a user', async () => {
    const store = memoryStore();
    await createResource(store, { name: 'vpn' });
    for (const u of ['alice', 'bob']) await addUser(store, { login: u, resources: ['vpn'] });
    await flashBatch(store, 1, pile(1).next, input); // 86596220000001 is known now
    const r = await flashBatch(store, null, pile(3).next, { ...input, resource: 'vpn' }, { users: ['alice', 'bob'] });
    expect(r.skipped.map((s) => s.serial)).toEqual(['86596220000001']);
    expect(r.flashed.map((f: FlashResult) => [f.serial, f.token.user])).toEqual([
      ['86596220000002', 'alice'],
      ['86596220000003', 'bob'],
    ]);
  });

  it('stops after the token being written when asked (Ctrl-C): the second token is finished, nothing more is taken', async () => {
    const store = memoryStore();
    const stop = new BatchStop();
    const r = await flashBatch(store, 10, pile(10).next, input, {
      stop,
      onEvent: (e) => e.type === 'step' && e.index === 2 && /seed/i.test(e.text) && stop.request(),
    });
    expect(r.flashed).toHaveLength(2);
    expect(r.counts).toEqual({ flashed: 2, skipped: 0, failed: 0, cancelled: 0 });
    expect(r.stopped).toBe(true);
  });

  it('a stop that comes once the token is identified but before the write cancels that token: not written, not registered, counted apart', async () => {
    const store = memoryStore();
    const stop = new BatchStop();
    const a = pile(3);
    let release: () => void = () => {};
    const held = new HeldTransport(a.sims[1]!, new Promise<void>((resolve) => (release = resolve)));
    // The second card answers only once the stop was pressed: the stop lands while it is being identified.
    const next = async (i: number) => (i === 1 ? (setTimeout(() => (stop.request(), release()), 10), held) : a.next(i));
    const r = await flashBatch(store, 3, next, input, { stop });
    expect(r.counts).toEqual({ flashed: 1, skipped: 0, failed: 0, cancelled: 1 });
    expect(r.cancelled.map((c) => c.serial)).toEqual(['86596220000002']);
    expect(a.sims[1]!.state().seedHex).toBeNull();
    expect(await store.tokens.findOne('Token2', '86596220000002')).toBeNull();
    expect(await store.batches.get(r.batch)).toMatchObject({ imported: 1, skipped: 1, failed: 0, status: 'done' });
    const row = (await store.audit.list()).find((x) => x.action === 'flash.batch');
    expect(row?.details).toMatchObject({ flashed: 1, skipped: 0, failed: 0, cancelled: 1, stopped: true });
  });

  it('a stop while waiting for the next token ends the run at once, counting no token', async () => {
    const store = memoryStore();
    const stop = new BatchStop();
    const a = pile(1);
    const never = new Promise<ApduTransport>(() => {});
    const r = await flashBatch(
      store,
      null,
      (i) => (i === 0 ? a.next(0) : (setTimeout(() => stop.request(), 20), never)),
      input,
      { stop },
    );
    expect(r.counts).toEqual({ flashed: 1, skipped: 0, failed: 0, cancelled: 0 });
    expect(r.stopped).toBe(true);
  });
});

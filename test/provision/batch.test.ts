import { describe, expect, it } from 'vitest';
import { flashBatch, type FlashResult } from '../../src/provision/token2-flash.js';
import { createResource } from '../../src/provision/resources.js';
import { addUser } from '../../src/provision/users.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { NoTokenError } from '../../src/transport/errors.js';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { memoryStore } from './helpers-ss.js';

const input = { algorithm: 'sha1', period: 30, displayTimeout: 30 } as const;

/** A pile of simulated cards: the nth call gives the nth card, then "no token". */
function pile(n: number, first = 1) {
  const sims = Array.from({ length: n }, (_, i) => new Token2Simulator({ model: 'token2-card', serial: `865962200${String(first + i).padStart(5, '0')}` }));
  return { sims, next: async (i: number) => (sims[i] ? new MemoryTransport(sims[i]!) : Promise.reject(new NoTokenError('no token'))) };
}

describe('flashBatch with in-memory simulators', () => {
  it('flashes a pile into one batch, each with its own seed; a second run skips every token the store holds a seed for', async () => {
    const store = memoryStore();
    const a = pile(5);
    const counts: string[] = [];
    const r = await flashBatch(store, 5, a.next, input, { onToken: (_i, _r, c) => counts.push(`${c.done}/${c.failed}/${c.skipped}`) });
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

  it('assigns to the users in order; a skipped token does not use up a user', async () => {
    const store = memoryStore();
    await createResource(store, { name: 'vpn' });
    for (const u of ['alice', 'bob']) await addUser(store, { login: u, resources: ['vpn'] });
    await flashBatch(store, 1, pile(1).next, input); // 86596220000001 is known now
    const r = await flashBatch(store, null, pile(3).next, { ...input, resource: 'vpn', users: ['alice', 'bob'] });
    expect(r.skipped.map((s) => s.serial)).toEqual(['86596220000001']);
    expect(r.flashed.map((f: FlashResult) => [f.serial, f.token.user])).toEqual([
      ['86596220000002', 'alice'],
      ['86596220000003', 'bob'],
    ]);
  });

  it('stops after the token being written when asked (Ctrl-C)', async () => {
    const store = memoryStore();
    const stop = { requested: false };
    const r = await flashBatch(store, 10, pile(10).next, input, { stop, onToken: (i) => (stop.requested = i === 1) });
    expect(r.flashed).toHaveLength(2);
    expect(r.stopped).toBe(true);
  });
});

/**
 * A keys batch's token source (src/provision/key-source.ts): a key on USB HID
 * is there or not, so the next one is asked for again until it comes within
 * --wait. Before it, `device flash --model yubikey-otp --batch 20` ended
 * "1 flashed", exit 0, as soon as the first key was taken away; and Ctrl-C
 * while a PC/SC key was awaited left the process waiting out --wait.
 */
import { describe, expect, it } from 'vitest';
import { runFlashBatch } from '../../src/provision/flash-batch.js';
import { keySource } from '../../src/provision/key-source.js';
import { NoTokenError } from '../../src/transport/errors.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import type { ApduTransport } from '../../src/transport/types.js';
import { memoryStore } from './helpers-ss.js';
import { ToyCard } from './toy-family/driver.js';
import { provisionFamily } from './toy-family/provision.js';

/** Keys that are plugged in only at the askings listed (0-based), as a HID open answers: at once, there or not. */
function plugged(at: number[], cards: ToyCard[]) {
  let asked = 0;
  let given = 0;
  const open = async (): Promise<ApduTransport> => {
    if (!at.includes(asked++)) throw new NoTokenError('no key plugged in');
    return new MemoryTransport(cards[given++]!);
  };
  return { open, asked: () => asked };
}

describe('the keys source', () => {
  it('asks again until the key comes within the wait, and says once that it waits', async () => {
    const keys = plugged([3], [new ToyCard('TOY-K1')]);
    let told = 0;
    const source = keySource(keys.open, { waitSeconds: 5, pollMs: 5, onWaiting: () => told++ });
    const t = await source.next(0);
    expect(t.isPresent()).toBe(true);
    expect(keys.asked()).toBe(4);
    expect(told).toBe(1);
  });

  it('gives up with no-token once the wait is over', async () => {
    const keys = plugged([], []);
    const source = keySource(keys.open, { waitSeconds: 0.05, pollMs: 5 });
    await expect(source.next(0)).rejects.toMatchObject({ code: 'no-token' });
    expect(keys.asked()).toBeGreaterThan(1);
  });

  it('closing it ends a pending wait at once (Ctrl-C), and closes what the opener holds', async () => {
    const keys = plugged([], []);
    let heldClosed = false;
    const source = keySource(keys.open, {
      waitSeconds: 3600,
      pollMs: 1000,
      onClose: async () => void (heldClosed = true),
    });
    const pending = source.next(0);
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await source.close();
    await expect(pending).rejects.toMatchObject({ code: 'no-token' });
    expect(Date.now() - started).toBeLessThan(500);
    expect(heldClosed).toBe(true);
  });

  it('a batch of 3 over it flashes the 3 keys plugged in one after another, not just the first', async () => {
    const store = memoryStore();
    const cards = ['TOY-K1', 'TOY-K2', 'TOY-K3'].map((s) => new ToyCard(s));
    const keys = plugged([0, 2, 5], cards);
    const source = keySource(keys.open, { waitSeconds: 5, pollMs: 5 });
    const flasher = await provisionFamily.station!.flasher({ model: 'toy-token' });
    const r = await runFlashBatch(store, source, flasher, {
      count: 3,
      sourceName: 'test',
      awaitRemoval: async () => undefined,
    });
    expect(r.counts).toEqual({ flashed: 3, skipped: 0, failed: 0, cancelled: 0 });
    expect(cards.every((c) => c.seed?.length === 20)).toBe(true);
    await store.close();
  });
});

/**
 * Migration 8's token fields on every backend: RFC 6238 T0, the Luhn check
 * digit flag and HOTP counters up to 2^64-1 read back exactly as written, by
 * insert, insertMany and update; records without them keep their old shape.
 */
import { describe, expect } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

const MAX_U64 = '18446744073709551615';
const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name backend: t0, check digit, 64-bit counters', (backend) => {
  let store: Store;
  const test = useBackend(backend);

  test('insert and get keep t0, checkDigit and a counter of 2^64-1', async () => {
    store = await backend.fresh();
    const t = await store.tokens.insert({
      ...baseToken,
      serial: 'BIG',
      type: 'hotp',
      t0: 0,
      checkDigit: true,
      counter: 0,
      counterExact: MAX_U64,
    });
    expect(t).toMatchObject({ checkDigit: true, counterExact: MAX_U64, counter: Number.MAX_SAFE_INTEGER });
    expect(t.t0).toBeUndefined();
    const s = await store.tokens.insert({ ...baseToken, serial: 'T0', t0: 1_234_567_890 });
    expect(await store.tokens.get(s.id)).toMatchObject({ t0: 1_234_567_890 });
    expect('checkDigit' in s || 'counterExact' in s).toBe(false);
  });

  test('insertMany keeps them too; an exact counter that fits a number is stored as one', async () => {
    store = await backend.fresh();
    await store.tokens.insertMany([
      { ...baseToken, serial: 'M1', type: 'hotp', counter: 0, counterExact: '9007199254740993', checkDigit: true },
      { ...baseToken, serial: 'M2', type: 'hotp', counter: 0, counterExact: '42', t0: -30 },
    ]);
    const [m1] = await store.tokens.findBySerial('M1');
    const [m2] = await store.tokens.findBySerial('M2');
    expect(m1).toMatchObject({ counterExact: '9007199254740993', checkDigit: true });
    expect(m2).toMatchObject({ counter: 42, t0: -30 });
    expect(m2!.counterExact).toBeUndefined();
  });

  test('a counter update clears a stale exact counter; counterExact sets it', async () => {
    store = await backend.fresh();
    const t = await store.tokens.insert({ ...baseToken, serial: 'U', type: 'hotp', counterExact: MAX_U64 });
    const u = await store.tokens.update(t.id, { counter: 7 });
    expect(u.counter).toBe(7);
    expect(u.counterExact).toBeUndefined();
    const v = await store.tokens.update(t.id, { counterExact: '18446744073709551614', checkDigit: true, t0: 60 });
    expect(v).toMatchObject({ counterExact: '18446744073709551614', checkDigit: true, t0: 60 });
    await expect(store.tokens.update(t.id, { counterExact: '18446744073709551616' })).rejects.toThrow(/2\^64-1/);
  });
});

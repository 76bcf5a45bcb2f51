/**
 * `device flash --record <cassette>` through the one device session (src/provision/device-session.ts), in
 * process: a family whose flash does not record (the Molto2) refuses --record by name before anything is written,
 * with --model (before the device is opened) and detected (after the harmless probe only); a family that
 * records (Token2 NFC) still writes the cassette. Before the fix a Molto2 flashed, exited 0 and left no cassette.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Molto2Simulator } from '../../drivers/token2-molto2/simulator.js';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { UsageError } from '../../src/core/errors.js';
import { runDeviceSession, type SessionBase } from '../../src/provision/device-session.js';
import { noPrompter } from '../../src/provision/families/verb-types.js';
import type { Store } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { memoryStore } from './helpers-ss.js';

const GENERIC_ATR = Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]);
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function baseOf(store: Store, options: Record<string, string | boolean | undefined>): SessionBase {
  return {
    options,
    yes: true,
    json: true,
    store,
    output: { result: () => {}, info: () => {}, interactive: false },
    step: () => {},
    stopProgress: () => {},
    prompt: noPrompter,
  };
}

/** `device flash` with these options against the simulator; how many times the device was opened, and the error. */
async function flash(sim: { process(a: Uint8Array): Uint8Array }, options: Record<string, string | boolean>) {
  const store = memoryStore();
  let opened = 0;
  const open = async () => {
    opened++;
    return new MemoryTransport({ atr: GENERIC_ATR, process: (a) => sim.process(a) });
  };
  try {
    const error = await runDeviceSession('flash', options, baseOf(store, options), open).then(
      () => null,
      (e: unknown) => e,
    );
    return { opened, error, stored: (await store.tokens.inventory()).length };
  } finally {
    await store.close();
  }
}

describe('device flash --record for a family that does not record', () => {
  it('with --model: refused by name (exit 2) before the device is opened; no cassette', async () => {
    const cassette = join(dir, 'model.cassette');
    const sim = new Molto2Simulator({ serial: '2310000078' });
    const r = await flash(sim, { model: 'token2-molto2', profile: '3', record: cassette });
    expect(r.error).toBeInstanceOf(UsageError);
    expect((r.error as UsageError).exitCode).toBe(2);
    expect((r.error as UsageError).code).toBe('no-such-flag');
    expect((r.error as Error).message).toMatch(/^token2-molto2 has no --record for device flash \(--record is for /);
    expect((r.error as Error).message).toMatch(/token2-nfc/);
    expect(r.opened).toBe(0);
    expect(existsSync(cassette)).toBe(false);
    expect(sim.state().profiles).toEqual([]);
    expect(r.stored).toBe(0);
  });

  it('detected: refused by name once the probe told the family, nothing written; no cassette', async () => {
    const cassette = join(dir, 'detected.cassette');
    const sim = new Molto2Simulator({ serial: '2310000079' });
    const r = await flash(sim, { profile: '3', record: cassette });
    expect(r.error).toBeInstanceOf(UsageError);
    expect((r.error as UsageError).exitCode).toBe(2);
    expect((r.error as Error).message).toMatch(/^token2-molto2 has no --record for device flash/);
    expect(r.opened).toBe(1);
    expect(existsSync(cassette)).toBe(false);
    expect(sim.state().profiles).toEqual([]);
    expect(r.stored).toBe(0);
  });
});

it('a family that records (Token2 NFC) still takes --record and writes the cassette', async () => {
  const cassette = join(dir, 'token2.cassette');
  const sim = new Token2Simulator({ model: 'token2-card' });
  const r = await flash(sim, { record: cassette });
  expect(r.error).toBeNull();
  expect(r.stored).toBe(1);
  expect(existsSync(cassette)).toBe(true);
});

/**
 * Records the committed cassettes in fixtures/cassettes/ from the simulator,
 * with a fixed clock and fixed challenges so they come out the same each time.
 * Regenerate: UPDATE_CASSETTES=1 npx vitest run test/transport/cassettes.test.ts
 */
import { join } from 'node:path';
import { Token2Driver, type Token2Settings } from '../../drivers/token2-nfc/driver.js';
import { Token2Simulator, type SimulatorOptions } from '../../drivers/token2-nfc/simulator.js';
import { LABELLED_TEST_SEEDS, startRecording } from '../../src/provision/cassettes.js';
import { TokensmithError } from '../../src/core/errors.js';
import { MemoryTransport } from '../../src/transport/memory.js';

export const FIXTURE_DIR = join(import.meta.dirname, '../../fixtures/cassettes');
/** 2026-01-01T00:00:00Z */
export const FIXTURE_NOW = 1_767_225_600_000;

const SHA1_SEED = LABELLED_TEST_SEEDS[0]!.seed;
const SHA256_SEED = LABELLED_TEST_SEEDS[1]!.seed;

function fixedRandom(): (n: number) => Uint8Array {
  let k = 0;
  return (n) => Uint8Array.from({ length: n }, () => (k = (k * 29 + 0x3b) & 0xff));
}

export interface FixtureSpec {
  file: string;
  operation: 'flash' | 'sync';
  sim: Omit<SimulatorOptions, 'now' | 'random'>;
  settings: Token2Settings;
  seed: Uint8Array;
  removeBeforeCommand?: number;
  expect: 'ok' | string;
  note: string;
}

export const FIXTURES: FixtureSpec[] = [
  {
    file: 'token2-card-flash.cassette',
    operation: 'flash',
    sim: { model: 'token2-card', serial: '86596220000042', clockOffset: -300 },
    settings: { algorithm: 'sha256', period: 60, displayTimeout: 60 },
    seed: SHA256_SEED,
    expect: 'ok',
    note: 'flash of an OTPC-P2-i: SHA-256, 60 s, display 60 s, with the RFC 6238 SHA-256 test seed',
  },
  {
    file: 'token2-card-sync.cassette',
    operation: 'sync',
    sim: { model: 'token2-card', serial: '86596220000043', clockOffset: 93, seed: SHA1_SEED },
    settings: { algorithm: 'sha1', period: 30, displayTimeout: 30 },
    seed: SHA1_SEED,
    expect: 'ok',
    note: 'clock sync of a restricted-sync OTPC-P2-i: the config write wipes the seed, so the seed is written again',
  },
  {
    file: 'token2-fob-c302-sync.cassette',
    operation: 'sync',
    sim: { model: 'token2-fob-c302', serial: '86596320000007', clockOffset: -41, seed: SHA1_SEED },
    settings: { algorithm: 'sha1', period: 30, displayTimeout: 30 },
    seed: SHA1_SEED,
    expect: 'ok',
    note: 'clock sync of a C302-i: config only, the seed stays',
  },
  {
    file: 'token2-card-auth-failure.cassette',
    operation: 'flash',
    sim: { model: 'token2-card', serial: '86596220000044', keyLocked: true },
    settings: { algorithm: 'sha1', period: 30, displayTimeout: 30 },
    seed: SHA1_SEED,
    expect: 'auth-failed',
    note: 'the token answers the authentication with 6983: one attempt, no retry, nothing written',
  },
  {
    file: 'token2-card-pulled.cassette',
    operation: 'flash',
    sim: { model: 'token2-card', serial: '86596220000045', seed: SHA1_SEED },
    settings: { algorithm: 'sha1', period: 30, displayTimeout: 30 },
    seed: SHA1_SEED,
    removeBeforeCommand: 5,
    expect: 'card-removed',
    note: 'the card leaves the reader after the config write, before the seed: config written, seed wiped',
  },
];

export async function recordFixture(spec: FixtureSpec, dir = FIXTURE_DIR): Promise<string> {
  const now = () => FIXTURE_NOW;
  const sim = new Token2Simulator({ ...spec.sim, now, random: fixedRandom() });
  const inner = new MemoryTransport(sim, {
    readerName: 'Simulated Token2 reader',
    removeBeforeCommand: spec.removeBeforeCommand,
  });
  const path = join(dir, spec.file);
  let tick = 0;
  const session = startRecording(inner, path, {
    source: 'simulator',
    operation: spec.operation,
    params: { ...spec.settings, model: spec.sim.model },
    seed: spec.seed,
    model: spec.sim.model,
    clock: now,
    // Frame times: a steady 12 ms per frame, so the files do not change between runs.
    frameClock: () => (tick += 12) - 12,
    note: spec.note,
  });
  const driver = new Token2Driver(session.transport, { now: session.clock.now });
  try {
    if (spec.operation === 'flash') await driver.flash(spec.seed, spec.settings);
    else await driver.syncClock(spec.settings, spec.seed);
    session.save({ ok: true });
  } catch (e) {
    if (!(e instanceof TokensmithError)) throw e;
    session.save({ ok: false, error: e.code });
  }
  return path;
}

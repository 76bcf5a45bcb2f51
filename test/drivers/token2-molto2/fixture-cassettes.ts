/**
 * Records the committed Molto2 and Protectimus cassettes in fixtures/cassettes/
 * from the simulators, with a fixed clock and fixed challenges, so they come
 * out the same each time. Regenerate:
 *   UPDATE_CASSETTES=1 npx vitest run test/drivers/token2-molto2/cassettes.test.ts
 */
import { join } from 'node:path';
import { TokensmithError } from '../../../src/core/errors.js';
import { LABELLED_TEST_SEEDS, startRecording } from '../../../src/provision/cassettes.js';
import { familyOfModel } from '../../../drivers/registry.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { Molto2Driver } from '../../../drivers/token2-molto2/driver.js';
import { Molto2Simulator } from '../../../drivers/token2-molto2/simulator.js';
import { ProtectimusSimulator } from '../../../drivers/protectimus/simulator.js';

export const FIXTURE_DIR = join(import.meta.dirname, '../../../fixtures/cassettes');
/** 2026-01-01T00:00:00Z */
export const FIXTURE_NOW = 1_767_225_600_000;
const SHA1_SEED = LABELLED_TEST_SEEDS[0]!.seed;
const SHA256_SEED = LABELLED_TEST_SEEDS[1]!.seed;
const PROFILE3 = { profile: 3, algorithm: 'sha256', digits: 8, period: 30, displayTimeout: 60, title: 'VPN' };

function fixedRandom(): (n: number) => Uint8Array {
  let k = 0;
  return (n) => Uint8Array.from({ length: n }, () => (k = (k * 29 + 0x3b) & 0xff));
}

export interface FamilyFixture {
  file: string;
  model: 'token2-molto2' | 'protectimus-slim';
  operation: string;
  params: Record<string, unknown>;
  seed: Uint8Array | null;
  /** Profile 3 already holds a seed before the recording starts. */
  preflash?: boolean;
  variant?: 'molto2' | 'molto2v2';
  expect: 'ok' | string;
  note: string;
}

export const FAMILY_FIXTURES: FamilyFixture[] = [
  {
    file: 'molto2-flash.cassette',
    model: 'token2-molto2',
    operation: 'flash-profile',
    params: PROFILE3,
    seed: SHA256_SEED,
    expect: 'ok',
    note: 'Molto2v2 profile 3: SHA-256, 8 digits, 30 s, display 60 s, title VPN, RFC 6238 SHA-256 test seed, factory customer key',
  },
  {
    file: 'molto2-profiles.cassette',
    model: 'token2-molto2',
    operation: 'profiles',
    params: {},
    seed: null,
    preflash: true,
    variant: 'molto2',
    expect: 'ok',
    note: 'list the 50 profiles of a Molto2 (profile 3 holds a seed); profile 50 answers 6A86',
  },
  {
    file: 'molto2-overwrite-refused.cassette',
    model: 'token2-molto2',
    operation: 'flash-profile',
    params: PROFILE3,
    seed: SHA1_SEED,
    preflash: true,
    expect: 'profile-has-seed',
    note: 'profile 3 holds a seed: refused before authenticating, nothing written',
  },
  {
    file: 'molto2-wrong-customer-key.cassette',
    model: 'token2-molto2',
    operation: 'flash-profile',
    params: { ...PROFILE3, customerKey: 'WRONG-TEST-KEY-1' },
    seed: SHA1_SEED,
    expect: 'auth-failed',
    note: 'a wrong customer key: 63 09 (9 tries left), one attempt, no retry',
  },
  {
    file: 'protectimus-info.cassette',
    model: 'protectimus-slim',
    operation: 'info',
    params: {},
    seed: null,
    expect: 'ok',
    note: 'Protectimus Slim NFC: UID and info (scheme 70, firmware 10.01, 30 s)',
  },
  {
    file: 'protectimus-read-code.cassette',
    model: 'protectimus-slim',
    operation: 'read-code',
    params: {},
    seed: null,
    expect: 'ok',
    note: 'read the code on the display (RFC 6238 SHA-1 test seed, clock +90 s)',
  },
  {
    file: 'protectimus-set-time.cassette',
    model: 'protectimus-slim',
    operation: 'set-time',
    params: {},
    seed: null,
    expect: 'ok',
    note: 'set the clock (info for the interval, then 86 0A 12 ..), no authentication: CVE-2021-32033',
  },
];

export async function recordFamilyFixture(f: FamilyFixture, dir = FIXTURE_DIR): Promise<string> {
  const now = () => FIXTURE_NOW;
  const sim =
    f.model === 'token2-molto2'
      ? new Molto2Simulator({ serial: '2310000007', variant: f.variant, now, random: fixedRandom(), clockOffset: -45 })
      : new ProtectimusSimulator({ serial: '70100000007', now, clockOffset: 90, seed: SHA1_SEED });
  if (f.preflash)
    await new Molto2Driver(new MemoryTransport(sim), { now }).writeProfile(3, SHA1_SEED, {
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      displayTimeout: 30,
    });
  const path = join(dir, f.file);
  let tick = 0;
  const session = startRecording(new MemoryTransport(sim, { readerName: `Simulated ${f.model}` }), path, {
    source: 'simulator',
    operation: f.operation,
    params: f.params,
    seed: f.seed,
    model: f.model,
    clock: now,
    frameClock: () => (tick += 12) - 12,
    note: f.note,
  });
  try {
    await (
      await familyOfModel(f.model)
    ).replay(f.model, { name: f.operation, params: f.params, outcome: { ok: true } }, session.transport, {
      now: session.clock.now,
      seed: f.seed,
    });
    session.save({ ok: true });
  } catch (e) {
    if (!(e instanceof TokensmithError)) throw e;
    session.save({ ok: false, error: e.code });
  }
  return path;
}

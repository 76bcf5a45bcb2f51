/**
 * Records the committed YubiKey OATH cassettes in fixtures/cassettes/ from the
 * OATH simulator, with a fixed clock, so they come out the same each time.
 * Regenerate:
 *   UPDATE_CASSETTES=1 npx vitest run test/drivers/yubikey/cassettes.test.ts
 */
import { join } from 'node:path';
import { LABELLED_TEST_SEEDS, startRecording } from '../../../src/provision/cassettes.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { familyOfModel } from '../../../drivers/registry.js';
import { OathDriver } from '../../../drivers/yubikey/oath-driver.js';
import { OathSimulator } from '../../../drivers/yubikey/oath-simulator.js';

export const FIXTURE_DIR = join(import.meta.dirname, '../../../fixtures/cassettes');
/** 2026-01-01T00:00:00Z */
export const FIXTURE_NOW = 1_767_225_600_000;

export interface OathFixture {
  file: string;
  operation: 'flash' | 'info';
  params: Record<string, unknown>;
  seed: Uint8Array | null;
  note: string;
}

export const OATH_FIXTURES: OathFixture[] = [
  {
    file: 'yubikey-oath-flash.cassette',
    operation: 'flash',
    params: {
      name: '60/Corp:alice',
      type: 'totp',
      algorithm: 'sha256',
      digits: 8,
      period: 60,
      touch: false,
      counter: 0,
    },
    seed: LABELLED_TEST_SEEDS[1]!.seed,
    note: 'simulator recording: YubiKey OATH, TOTP SHA-256, 8 digits, 60 s, RFC 6238 SHA-256 test seed, no access password',
  },
  {
    file: 'yubikey-oath-info.cassette',
    operation: 'info',
    params: {},
    seed: null,
    note: 'simulator recording: YubiKey OATH SELECT and LIST of a key with two credentials, no access password',
  },
];

export async function recordOathFixture(f: OathFixture, dir = FIXTURE_DIR): Promise<string> {
  const now = () => FIXTURE_NOW;
  const sim = new OathSimulator({ serial: '16000007' });
  if (f.operation === 'info') {
    const d = new OathDriver(new MemoryTransport(sim), { now });
    await d.open();
    await d.put({ name: 'alice', type: 'totp', algorithm: 'sha1', digits: 6, secret: LABELLED_TEST_SEEDS[0]!.seed });
    await d.put({ name: 'Corp:bob', type: 'hotp', algorithm: 'sha1', digits: 6, secret: LABELLED_TEST_SEEDS[0]!.seed });
  }
  const path = join(dir, f.file);
  let tick = 0;
  const session = startRecording(new MemoryTransport(sim, { readerName: 'Simulated yubikey-oath' }), path, {
    source: 'simulator',
    operation: f.operation,
    params: f.params,
    seed: f.seed,
    model: 'yubikey-oath',
    clock: now,
    frameClock: () => (tick += 12) - 12,
    note: f.note,
  });
  await (
    await familyOfModel('yubikey-oath')
  ).replay('yubikey-oath', { name: f.operation, params: f.params, outcome: { ok: true } }, session.transport, {
    now: session.clock.now,
    seed: f.seed,
  });
  session.save({ ok: true });
  return path;
}

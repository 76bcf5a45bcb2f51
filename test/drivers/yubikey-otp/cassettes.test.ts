/**
 * HID (and CCID) cassettes of yubikey-otp sessions, recorded from the
 * simulator (source: simulator) and replayed through the real driver. A HID
 * cassette's commands are feature reports: 8 bytes written, or an empty
 * command for a report read (docs/cassettes.md).
 * Regenerate: UPDATE_CASSETTES=1 npx vitest run test/drivers/yubikey-otp/cassettes.test.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokensmithError } from '../../../src/core/errors.js';
import { LABELLED_TEST_SEEDS, startRecording, verifyCassette } from '../../../src/provision/cassettes.js';
import { readCassette } from '../../../src/transport/cassette.js';
import { CassetteMismatchError } from '../../../src/transport/errors.js';
import { portAsFrames } from '../../../src/transport/hid-reports.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import type { ApduTransport } from '../../../src/transport/types.js';
import { isOtpSeedBearing, replayOtp } from '../../../drivers/yubikey/otp/index.js';
import { YubiOtpDriver } from '../../../drivers/yubikey/otp/driver.js';
import { CcidOtpLink } from '../../../drivers/yubikey/otp/link.js';
import { YubiOtpSimulator } from '../../../drivers/yubikey/otp/simulator.js';
import { hidPortOf } from './helpers.js';

const DIR = join(import.meta.dirname, '../../../fixtures/cassettes');
const SEED = LABELLED_TEST_SEEDS[0]!.seed;
const ACCESS = Buffer.from('a1a2a3a4a5a6', 'hex');

interface Spec {
  file: string;
  link: 'hid' | 'ccid';
  operation: 'flash' | 'info';
  params: Record<string, unknown>;
  /** Prepares the simulated key (a protected slot ...). */
  prepare?: (sim: YubiOtpSimulator) => Promise<void>;
  note: string;
}

const SPECS: Spec[] = [
  {
    file: 'yubikey-otp-hid-flash.cassette',
    link: 'hid',
    operation: 'flash',
    params: { slot: 1, digits: 8, counter: 32, tokenIdHex: 'e16300000001', accessCode: false },
    note: 'OATH-HOTP into slot 1 over USB HID: 8 digits, counter 32, token id, RFC 4226 test seed',
  },
  {
    file: 'yubikey-otp-hid-info.cassette',
    link: 'hid',
    operation: 'info',
    params: {},
    note: 'status and serial over USB HID',
  },
  {
    file: 'yubikey-otp-ccid-flash.cassette',
    link: 'ccid',
    operation: 'flash',
    params: { slot: 2, digits: 6, counter: 0, tokenIdHex: '', accessCode: false },
    note: 'OATH-HOTP into slot 2 over CCID, RFC 4226 test seed',
  },
  {
    file: 'yubikey-otp-hid-access-code-refused.cassette',
    link: 'hid',
    operation: 'flash',
    params: { slot: 2, digits: 6, counter: 0, tokenIdHex: '', accessCode: true },
    prepare: async (sim) =>
      void (await new YubiOtpDriver(new CcidOtpLink(new MemoryTransport(sim))).programHotp(2, {
        seed: SEED,
        digits: 6,
        counter: 0,
        newAccessCode: ACCESS,
      })),
    note: 'slot 2 protected by an access code; the wrong one: one refused write (the sequence does not move), nothing written; the access code frames are redacted',
  },
];

async function record(spec: Spec): Promise<void> {
  const sim = new YubiOtpSimulator({ serial: '5550123' });
  await spec.prepare?.(sim);
  const inner: ApduTransport =
    spec.link === 'hid'
      ? portAsFrames(hidPortOf(sim), { readerName: 'Simulated YubiKey (HID)' })
      : new MemoryTransport(sim, { readerName: 'Simulated YubiKey (CCID)' });
  const session = startRecording(inner, join(DIR, spec.file), {
    source: 'simulator',
    operation: spec.operation,
    params: { ...spec.params, link: spec.link },
    seed: spec.operation === 'flash' ? SEED : null,
    model: 'yubikey-otp',
    frameClock: () => 0,
    note: spec.note,
    redaction: {
      isSeedBearing: isOtpSeedBearing,
      keep: (f) => (f.length === 8 ? 0 : 5),
      always: Boolean(spec.params.accessCode),
    },
  });
  // The recording drives the real driver the way the CLI does (with a flash's access code: the replay's stand-in, which this slot refuses).
  const op = { name: spec.operation, params: { ...spec.params, link: spec.link }, outcome: { ok: true as const } };
  try {
    await replayOtp(op, session.transport, { now: () => 0, seed: SEED });
    session.save({ ok: true });
  } catch (e) {
    session.save({ ok: false, error: e instanceof TokensmithError ? e.code : 'failure' });
  }
}

describe('yubikey-otp cassettes (recorded from the simulator)', () => {
  for (const spec of SPECS) {
    it(`${spec.file} replays through the real driver`, async () => {
      const path = join(DIR, spec.file);
      if (process.env.UPDATE_CASSETTES || !existsSync(path)) await record(spec);
      const r = await verifyCassette(path);
      expect(r).toMatchObject({ ok: true, operation: spec.operation });
      expect(r.commands).toBeGreaterThan(2);
      const c = readCassette(path);
      expect(c.header).toMatchObject({
        model: 'yubikey-otp',
        source: 'simulator',
        transport: spec.link === 'hid' ? 'hid' : 'memory',
      });
    });
  }

  it('a HID cassette with a changed report fails the replay, naming the frame', async () => {
    const path = join(DIR, 'yubikey-otp-hid-flash.cassette');
    const c = readCassette(path);
    const i = c.frames.findIndex((f) => f.dir === 'command' && f.bytes.length === 8 && f.bytes[7] === 0x87);
    expect(i).toBeGreaterThan(0);
    c.frames[i]!.bytes[2] = c.frames[i]!.bytes[2]! ^ 0x01;
    await expect(verifyCassette(path, c)).rejects.toBeInstanceOf(CassetteMismatchError);
  });

  it('the refused write: no access code bytes in the file, the key-bearing reports kept only by length', () => {
    const text = readFileSync(join(DIR, 'yubikey-otp-hid-access-code-refused.cassette'), 'utf8');
    const c = readCassette(join(DIR, 'yubikey-otp-hid-access-code-refused.cassette'));
    const redacted = c.frames.filter((f) => f.redacted);
    expect(redacted.length).toBeGreaterThan(3);
    expect(redacted.every((f) => f.bytes.length === 0 && f.length === 8)).toBe(true);
    expect(text).not.toMatch(/5A 5A 5A 5A 5A 5A/);
    expect(c.header.operation?.outcome).toEqual({ ok: false, error: 'access-code-rejected' });
  });
});

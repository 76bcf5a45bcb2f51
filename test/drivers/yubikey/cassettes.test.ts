/**
 * The committed YubiKey OATH cassettes replay through the real driver (found
 * through the registry by the model in their header), and a recording of a
 * YubiKey flash redacts the PUT that carries the secret.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTranscript, showCassette, startRecording, verifyCassette } from '../../../src/provision/cassettes.js';
import { readCassette } from '../../../src/transport/cassette.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { OathDriver, flashCredential } from '../../../drivers/yubikey/oath-driver.js';
import { OathSimulator } from '../../../drivers/yubikey/oath-simulator.js';
import { FIXTURE_DIR, OATH_FIXTURES, recordOathFixture } from './fixture-cassettes.js';

const tmp = mkdtempSync(join(tmpdir(), 'tokensmith-yubikey-cassettes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

if (process.env.UPDATE_CASSETTES === '1') {
  it('regenerates the YubiKey OATH fixture cassettes', async () => {
    for (const f of OATH_FIXTURES) await recordOathFixture(f);
  });
}

describe('YubiKey OATH cassettes', () => {
  for (const f of OATH_FIXTURES) {
    it(`${f.file} replays through the real driver`, async () => {
      const path = join(FIXTURE_DIR, f.file);
      expect(existsSync(path)).toBe(true);
      const r = await verifyCassette(path);
      expect(r).toMatchObject({ ok: true, operation: f.operation, outcome: 'ok' });
      expect(readCassette(path).header).toMatchObject({ source: 'simulator', model: 'yubikey-oath' });
    });
  }

  it('a fresh recording equals the committed one, frame for frame', async () => {
    for (const f of OATH_FIXTURES) {
      const fresh = readCassette(await recordOathFixture(f, tmp));
      const old = readCassette(join(FIXTURE_DIR, f.file));
      expect(
        fresh.frames.map((x) => Buffer.from(x.bytes).toString('hex')),
        f.file,
      ).toEqual(old.frames.map((x) => Buffer.from(x.bytes).toString('hex')));
    }
  });

  it('cassette show decodes SELECT, PUT, LIST and CALCULATE', async () => {
    const flash = formatTranscript(await showCassette(join(FIXTURE_DIR, 'yubikey-oath-flash.cassette')));
    expect(flash).toMatch(/SELECT the OATH application/);
    expect(flash).toMatch(/PUT credential '60\/Corp:alice': totp, sha256, 8 digits, 32-byte key/);
    expect(flash).toMatch(/1 credential\(s\): 60\/Corp:alice \(totp, sha256\)/);
    expect(flash).toMatch(/CALCULATE '60\/Corp:alice' at step 29453760, truncated/);
    const info = formatTranscript(await showCassette(join(FIXTURE_DIR, 'yubikey-oath-info.cassette')));
    expect(info).toMatch(/version 5\.4\.3, device id [0-9A-F]{16}, no access password/);
    expect(info).toMatch(/2 credential\(s\): alice \(totp, sha1\), Corp:bob \(hotp, sha1\)/);
  });

  it('recording a flash with a seed that is not a test seed stores the PUT by shape only, and the cassette still replays', async () => {
    const secret = new Uint8Array(randomBytes(20));
    const path = join(tmp, 'redacted.cassette');
    const params = { name: 'alice', type: 'totp', algorithm: 'sha1', digits: 6, period: 30, touch: false, counter: 0 };
    const session = startRecording(new MemoryTransport(new OathSimulator({ serial: '16000008' })), path, {
      source: 'simulator',
      operation: 'flash',
      params,
      seed: secret,
      model: 'yubikey-oath',
    });
    await flashCredential(new OathDriver(session.transport, { now: session.clock.now }), undefined, async () => ({
      ...params,
      type: 'totp',
      algorithm: 'sha1',
      secret,
    }));
    session.save({ ok: true });
    const c = readCassette(path);
    const put = c.frames.find((f) => f.dir === 'command' && f.bytes[1] === 0x01)!;
    expect(put).toMatchObject({ redacted: true });
    expect(put.bytes).toHaveLength(5);
    expect(readFileSync(path, 'utf8').replace(/\s/g, '').toLowerCase()).not.toContain(
      Buffer.from(secret).toString('hex'),
    );
    expect(await verifyCassette(path)).toMatchObject({ ok: true, outcome: 'ok' });
  });
});

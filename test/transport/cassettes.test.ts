import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTranscript, showCassette, startRecording, verifyCassette } from '../../src/provision/cassettes.js';
import { decodeCassette, encodeCassette, readCassette } from '../../src/transport/cassette.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { Token2Driver } from '../../drivers/token2-nfc/driver.js';
import { FIXTURES, FIXTURE_DIR, recordFixture } from './fixture-cassettes.js';
import { flipByte } from '../helpers/bytes.js';

const tmp = mkdtempSync(join(tmpdir(), 'tokensmith-cassettes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

if (process.env.UPDATE_CASSETTES === '1') {
  it('regenerates the fixture cassettes', async () => {
    for (const f of FIXTURES) await recordFixture(f);
  });
}

describe('committed cassettes replay through the real driver, with no pcscd', () => {
  for (const f of FIXTURES) {
    it(`${f.file} replays and ends ${f.expect}`, async () => {
      const path = join(FIXTURE_DIR, f.file);
      expect(existsSync(path)).toBe(true);
      const r = await verifyCassette(path);
      expect(r.outcome).toBe(f.expect);
      const c = readCassette(path);
      expect(c.header.source).toBe('simulator');
      expect(c.header.seedLabel).toMatch(/^RFC 6238 .* test seed$/);
    });
  }

  it('the four required sessions are there: flash, sync, auth failure, card pulled', () => {
    const outcomes = FIXTURES.map((f) => `${f.operation}:${f.expect}`);
    expect(outcomes).toEqual(
      expect.arrayContaining(['flash:ok', 'sync:ok', 'flash:auth-failed', 'flash:card-removed']),
    );
  });

  it('the auth-failure cassette holds exactly one authentication', () => {
    const c = readCassette(join(FIXTURE_DIR, 'token2-card-auth-failure.cassette'));
    const auths = c.frames.filter((fr) => fr.dir === 'command' && fr.bytes[1] === 0xce);
    expect(auths).toHaveLength(1);
    const last = c.frames.at(-1)!;
    expect(Buffer.from(last.bytes).toString('hex')).toBe('6983');
  });
});

describe('a changed byte fails the replay with a decoded diff', () => {
  it('flipping a byte of the config command names the frame, both byte strings and the decoded fields', async () => {
    const c = readCassette(join(FIXTURE_DIR, 'token2-card-flash.cassette'));
    const i = c.frames.findIndex((fr) => fr.dir === 'command' && fr.bytes[1] === 0xd4);
    flipByte(c.frames[i]!.bytes, 9, 0x01); // the display timeout code: 2 (60 s) -> 3 (120 s)
    const path = join(tmp, 'tampered.cassette');
    writeFileSync(path, encodeCassette(c));
    const err = await verifyCassette(path).catch((e) => e);
    expect(err.code).toBe('cassette-mismatch');
    expect(err.exitCode).toBe(4);
    expect(err.message).toMatch(new RegExp(`command #${c.frames[i]!.seq} differs from the recording at byte 9`));
    expect(err.message).toMatch(/expected 84 D4 00 00 17/);
    expect(err.message).toMatch(/actual {3}84 D4 00 00 17/);
    expect(err.message).toMatch(
      /expected .*\(write config: display timeout 120 s \(code 3\), clock 2026-01-01T00:00:00Z .*sha256, time step 60 s, MAC INVALID\)/,
    );
    expect(err.message).toMatch(/actual .*\(write config: display timeout 60 s \(code 2\), .*MAC valid\)/);
  });

  it('flipping a byte of a response changes what the driver sends next, and the replay says so', async () => {
    const c = readCassette(join(FIXTURE_DIR, 'token2-card-flash.cassette'));
    const i = c.frames.findIndex((fr) => fr.dir === 'response' && fr.bytes.length === 10); // the first challenge
    flipByte(c.frames[i]!.bytes, 0, 0xff);
    const path = join(tmp, 'tampered-challenge.cassette');
    writeFileSync(path, encodeCassette(c));
    await expect(verifyCassette(path)).rejects.toThrow(/differs from the recording.*\n.*expected 80 CE.*authenticate/);
  });
});

describe('recording', () => {
  it('refuses a real seed when no family says which frames carry it, before any frame is recorded', () => {
    const seed = Uint8Array.from({ length: 32 }, (_, k) => 200 - k);
    for (const model of [null, 'token2-molto2']) {
      const path = join(tmp, `no-check-${model ?? 'none'}.cassette`);
      const start = () =>
        startRecording(new MemoryTransport(new Token2Simulator({ model: 'token2-card' })), path, {
          source: 'simulator',
          operation: 'flash',
          params: {},
          seed,
          model,
        });
      expect(start, String(model)).toThrow(/cannot record this session with its seed/);
      expect(existsSync(path)).toBe(false);
    }
  });

  it('redacts the seed frames of a seed that is not a labelled test seed, and replays them by shape', async () => {
    const seed = Uint8Array.from({ length: 32 }, (_, k) => 255 - k);
    const sim = new Token2Simulator({ model: 'token2-card' });
    const path = join(tmp, 'real-seed.cassette');
    const session = startRecording(new MemoryTransport(sim), path, {
      source: 'simulator',
      operation: 'flash',
      params: { algorithm: 'sha256', period: 60, displayTimeout: 60 },
      seed,
      model: 'token2-nfc',
    });
    await new Token2Driver(session.transport, { now: session.clock.now }).flash(seed, {
      algorithm: 'sha256',
      period: 60,
      displayTimeout: 60,
    });
    session.save({ ok: true });
    const raw = readFileSync(path);
    expect(raw.includes(Buffer.from(seed))).toBe(false);
    // The text form: the seed's hex is not there either, in any spacing.
    const text = raw.toString('utf8').replace(/[ "]/g, '').toLowerCase();
    expect(text.includes(Buffer.from(seed).toString('hex'))).toBe(false);
    expect(text.includes(Buffer.from(seed.subarray(0, 8)).toString('hex'))).toBe(false);
    const c = decodeCassette(raw);
    expect(c.header.seed).toBeNull();
    expect(c.header.seedLength).toBe(32);
    const seedFrame = c.frames.find((f) => f.redacted)!;
    expect(seedFrame.bytes.length).toBe(5);
    expect(seedFrame.length).toBe(5 + 48 + 4);
    expect((await showCassette(path)).frames.find((f) => f.meaning.includes('redacted'))).toBeTruthy();
    const r = await verifyCassette(path);
    expect(r.outcome).toBe('ok');
  });

  it('shows an annotated transcript: command names, config fields, status words in words', async () => {
    const text = formatTranscript(await showCassette(join(FIXTURE_DIR, 'token2-card-flash.cassette')));
    expect(text).toMatch(/source simulator/);
    expect(text).toMatch(/get info/);
    expect(text).toMatch(/serial 86596220000042/);
    expect(text).toMatch(
      /write config: display timeout 60 s \(code 2\), clock 2026-01-01T00:00:00Z .*sha256, time step 60 s, MAC valid/,
    );
    expect(text).toMatch(/9000 success/);
    const failure = formatTranscript(await showCassette(join(FIXTURE_DIR, 'token2-card-auth-failure.cassette')));
    expect(failure).toMatch(/6983 authentication failed/);
    const pulled = formatTranscript(await showCassette(join(FIXTURE_DIR, 'token2-card-pulled.cassette')));
    expect(pulled).toMatch(/card-removed/);
  });

  it('refuses a file that is not a cassette', () => {
    const path = join(tmp, 'not.cassette');
    copyFileSync(join(import.meta.dirname, 'cassettes.test.ts'), path);
    expect(() => readCassette(path)).toThrow(/not (CBOR|a tokensmith cassette)/);
  });
});

import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTranscript, showCassette, verifyCassette } from '../../../src/provision/cassettes.js';
import { encodeCassette, readCassette } from '../../../src/transport/cassette.js';
import { FAMILY_FIXTURES, FIXTURE_DIR, recordFamilyFixture } from './fixture-cassettes.js';

const tmp = mkdtempSync(join(tmpdir(), 'tokensmith-family-cassettes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

if (process.env.UPDATE_CASSETTES === '1') {
  it('regenerates the Molto2 and Protectimus fixture cassettes', async () => {
    for (const f of FAMILY_FIXTURES) await recordFamilyFixture(f);
  });
}

describe('committed Molto2 and Protectimus cassettes replay through the real drivers, with no pcscd', () => {
  for (const f of FAMILY_FIXTURES) {
    it(`${f.file} replays and ends ${f.expect}`, async () => {
      const path = join(FIXTURE_DIR, f.file);
      expect(existsSync(path)).toBe(true);
      const r = await verifyCassette(path);
      expect(r.outcome).toBe(f.expect);
      const c = readCassette(path);
      expect(c.header).toMatchObject({ source: 'simulator', model: f.model });
      expect(c.header.seed === null || /^RFC 6238 .* test seed$/.test(c.header.seedLabel ?? '')).toBe(true);
    });
  }

  it('a fresh recording equals the committed one, frame for frame', async () => {
    for (const f of FAMILY_FIXTURES) {
      const fresh = readCassette(await recordFamilyFixture(f, tmp));
      const old = readCassette(join(FIXTURE_DIR, f.file));
      expect(
        fresh.frames.map((x) => Buffer.from(x.bytes).toString('hex')),
        f.file,
      ).toEqual(old.frames.map((x) => Buffer.from(x.bytes).toString('hex')));
    }
  });

  it('cassette show decodes the Molto2 config, the public block and the 63NN answer', async () => {
    const flash = formatTranscript(await showCassette(join(FIXTURE_DIR, 'molto2-flash.cassette')));
    expect(flash).toMatch(
      /write config of profile 3: display 60 s, clock 2026-01-01T00:00:00Z, sha256, 8 digits, time step 30 s/,
    );
    expect(flash).toMatch(/profile: title 'VPN', sha256, 8 digits, step 30 s, seed present/);
    expect(flash).not.toMatch(/unknown command/);
    const wrong = formatTranscript(await showCassette(join(FIXTURE_DIR, 'molto2-wrong-customer-key.cassette')));
    expect(wrong).toMatch(/6309 authentication failed, 9 tries left/);
  });

  it('cassette show decodes the Protectimus frames and their checksums', async () => {
    const t = formatTranscript(await showCassette(join(FIXTURE_DIR, 'protectimus-set-time.cassette')));
    expect(t).toMatch(/info: hardware scheme 70, firmware 10.01, RTC yes, interval 30 s; checksum ok/);
    expect(t).toMatch(/set the clock to 2026-01-01T00:00:00Z \(1767225600\), 30 s steps/);
    expect(formatTranscript(await showCassette(join(FIXTURE_DIR, 'protectimus-read-code.cassette')))).toMatch(
      /code \d{6}; checksum ok/,
    );
  });

  it('a changed byte of the Molto2 config fails the replay with both frames decoded', async () => {
    const c = readCassette(join(FIXTURE_DIR, 'molto2-flash.cassette'));
    const i = c.frames.findIndex((fr) => fr.dir === 'command' && fr.bytes[1] === 0xd4);
    c.frames[i]!.bytes[23] = 0x06; // 8 digits -> 6
    const path = join(tmp, 'tampered.cassette');
    writeFileSync(path, encodeCassette(c));
    const err = await verifyCassette(path).catch((e) => e);
    expect(err.code).toBe('cassette-mismatch');
    expect(err.message).toMatch(/expected .*6 digits/);
    expect(err.message).toMatch(/actual .*8 digits/);
  });
});

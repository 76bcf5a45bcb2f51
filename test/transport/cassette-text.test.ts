/**
 * Cassettes as reviewable text: the committed ones are JSON with spaced hex
 * and decoded comments, a byte changed by hand in the text fails the replay
 * with both frames decoded, and a version-1 (CBOR) recording is still read.
 */
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'cbor-x';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCassette } from '../../src/provision/cassettes.js';
import { readCassette } from '../../src/transport/cassette.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/cassettes');
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-cassette-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the committed cassettes are text', () => {
  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.cassette')))(
    '%s: JSON, hex frames one a line with their meaning, source simulator',
    (name) => {
      const text = readFileSync(join(FIXTURES, name), 'utf8');
      const json = JSON.parse(text) as {
        header: { version: number; source: string; atr: string; transport?: string };
        frames: { hex: string; meaning?: string; dir: string }[];
      };
      expect(json.header.version).toBe(2);
      expect(json.header.source).toBe('simulator');
      // A HID session (YubiKey OTP) has no ATR, and a report read is an empty command answered by 8 bytes (docs/cassettes.md).
      const hid = json.header.transport === 'hid';
      expect(json.header.atr).toMatch(hid ? /^$/ : /^[0-9A-F]{2}( [0-9A-F]{2})*$/);
      for (const f of json.frames.filter((x) => x.dir !== 'event')) {
        expect(f.hex).toMatch(hid ? /^([0-9A-F]{2}( [0-9A-F]{2})*)?$/ : /^[0-9A-F]{2}( [0-9A-F]{2})*$/);
        expect(f.meaning, f.hex).toBeTruthy();
      }
      expect(text.split('\n').filter((l) => l.trimStart().startsWith('{"seq"')).length).toBe(json.frames.length);
    },
  );
});

describe('a hand edit of the text', () => {
  it('one hex digit of the config command changed: the replay fails at that byte, both sides decoded', async () => {
    const text = readFileSync(join(FIXTURES, 'token2-card-flash.cassette'), 'utf8');
    // The algorithm byte of write config (`0A 01 02`: sha256) made `0A 01 01` (sha1).
    const edited = text.replace('86 06 0A 01 02 0D 01 3C', '86 06 0A 01 01 0D 01 3C');
    expect(edited).not.toBe(text);
    const path = join(dir, 'edited.cassette');
    writeFileSync(path, edited);
    const err = (await verifyCassette(path).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/differs from the recording at byte 20/);
    expect(err.message).toMatch(/expected .*sha1/);
    expect(err.message).toMatch(/actual .*sha256/);
  });

  it('a frame whose hex is not hex is named', () => {
    const text = readFileSync(join(FIXTURES, 'protectimus-info.cassette'), 'utf8').replace(
      '"hex":"86 02 10 10"',
      '"hex":"86 02 1G 10"',
    );
    const path = join(dir, 'bad-hex.cassette');
    writeFileSync(path, text);
    expect(() => readCassette(path)).toThrow(/bad-hex\.cassette#\d+: '86 02 1G 10' is not hex bytes/);
  });
});

describe('version 1 (CBOR) recordings', () => {
  it('are still read and replayed', async () => {
    const c = readCassette(join(FIXTURES, 'molto2-flash.cassette'));
    const path = join(dir, 'v1.cassette');
    writeFileSync(path, encode({ header: { ...c.header, version: 1 }, frames: c.frames }));
    expect(readCassette(path).header.version).toBe(1);
    await expect(verifyCassette(path)).resolves.toMatchObject({ ok: true, operation: 'flash-profile' });
  });
});

/** The CSV / text / DualShield dialects and format detection against the corpus. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/import/detect.js';
import { parserFor } from '../../src/import/formats/index.js';
import type { ImportFormat } from '../../src/import/types.js';
import { collect, expectedOf, fixture } from './helpers.js';

const csv = expectedOf('csv');
const bad = expectedOf('bad');

const FORMAT_OF_DIALECT: Record<string, ImportFormat> = {
  'privacyidea-oath-csv': 'oath-csv',
  'privacyidea-oath-csv-v2': 'oath-csv',
  'linotp-oath-csv': 'linotp-csv',
  'entra-csv': 'entra-csv',
  'thales-safenet-csv': 'thales-csv',
  'protectimus-csv': 'protectimus-csv',
  'linotp-dpw': 'dpw',
  'deepnet-dualshield-xml': 'deepnet-xml',
  'otpauth-uri-list': 'otpauth',
};

describe('one sample per dialect', () => {
  for (const f of csv.files) {
    const format = FORMAT_OF_DIALECT[f.dialect]!;
    it(`${f.file} is detected as ${format} and reads exactly`, async () => {
      const path = fixture('csv', f.file);
      expect(detectFormat(readFileSync(path), f.file)).toBe(format);
      const items = await collect(await parserFor(format), path);
      expect(items.filter((i) => i.problem)).toEqual([]);
      const records = items.map((i) => i.record!);
      expect(records.map((r) => r.serial)).toEqual(f.tokens.map((t: any) => t.serial));
      f.tokens.forEach((t: any, i: number) => {
        const r = records[i]!;
        // A day password keeps its key as the text LinOTP hashes.
        expect(t.type === 'dpw' ? r.seed.toString('ascii') : r.seed.toString('hex')).toBe(t.secretHex);
        if (t.type) expect(r.type).toBe(t.type);
        if (t.hash) expect(r.algorithm).toBe(t.hash);
        if (t.digits) expect(r.digits).toBe(t.digits);
        if (t.period) expect(r.period).toBe(t.period);
        if (t.counter !== undefined) expect(r.counter).toBe(t.counter);
        if (t.manufacturer) expect(r.manufacturer).toBe(t.manufacturer);
        if (t.model) expect(r.model).toBe(t.model);
        if (t.user) expect(r.attributes.user).toBe(t.user);
        if (t.upn) expect(r.attributes.upn).toBe(t.upn);
      });
    });
  }
});

describe('bad CSV files', () => {
  const byFile = Object.fromEntries(bad.files.map((f: any) => [f.file, f]));

  it.each(['oath-invalid-hex.csv', 'entra-invalid-base32.csv', 'thales-short-row.csv'])(
    '%s: the bad row by line and serial',
    async (name) => {
      const f = byFile[name];
      const path = fixture('bad', name);
      const format = detectFormat(readFileSync(path), name);
      const items = await collect(await parserFor(format), path);
      const problems = items.filter((i) => i.problem).map((i) => i.problem!);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.where).toBe(`${name}:${f.expectedError.line}`);
      expect(problems[0]!.serial).toBe(f.expectedError.serial);
      expect(problems[0]!.code).toBe(
        { 'invalid-hex': 'bad-hex', 'invalid-base32': 'bad-base32', 'missing-column': 'missing-column' }[
          f.expectedError.kind as string
        ],
      );
    },
  );

  it('a header without a column names the column and line 1', async () => {
    const path = fixture('bad', 'entra-missing-column.csv');
    await expect(collect(await parserFor('entra-csv'), path)).rejects.toMatchObject({
      code: 'missing-column',
      message: expect.stringMatching(/^entra-missing-column\.csv:1: .*'time interval'/),
    });
  });

  it('content that fits no format: could not tell; use --format', () => {
    expect(() => detectFormat(Buffer.from('hello world, how are you\nfine thanks\n'), 'x.txt')).toThrow(
      /could not tell.*use --format/,
    );
    expect(() => detectFormat(Buffer.from('<html><body/></html>'), 'x.xml')).toThrow(/use --format/);
    expect(() => detectFormat(readFileSync(fixture('bad', 'zip-named-xml.xml')), 'z.xml')).toThrow(/ZIP archive/);
  });
});

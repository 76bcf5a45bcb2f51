/** The one CSV reader: quoted fields that hold commas, quotes and line breaks, read the same for seed files and user lists. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvRecordAssembler, parseCsvRows, splitCsv } from '../../src/core/csv.js';
import { parserFor } from '../../src/import/formats/index.js';
import { collect } from '../import/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCsvRows (whole text)', () => {
  it('keeps a quoted line break in its field and numbers rows by the line they start on', () => {
    const rows = parseCsvRows('login,name\r\nalice,"Alice\r\nLiddell"\nbob,"say ""hi"", twice"\n');
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [1, ['login', 'name']],
      [2, ['alice', 'Alice\nLiddell']],
      [4, ['bob', 'say "hi", twice']],
    ]);
  });

  it('an unclosed quote is an error that names the line it opened on', () => {
    expect(() => parseCsvRows('a\nb\n"open,\nmore')).toThrow(/unterminated quoted field starting on line 3/);
  });
});

describe('CsvRecordAssembler (line by line)', () => {
  it('returns null while a quoted field is open and the whole record when it closes', () => {
    const r = new CsvRecordAssembler();
    expect(r.add('S1,"two', 7)).toBeNull();
    expect(r.add('lines",x', 8)).toEqual({ fields: ['S1', 'two\nlines', 'x'], line: 7, text: 'S1,"two\nlines",x' });
    expect(() => r.finish()).not.toThrow();
  });

  it('honours another delimiter', () => {
    expect(new CsvRecordAssembler(';').add('a;"b;c";d', 1)?.fields).toEqual(['a', 'b;c', 'd']);
  });
});

describe('splitCsv (one line of a detection sample)', () => {
  it('trims fields and closes a quote the sample cut off', () => {
    expect(splitCsv(' a , "b,c" ,"open')).toEqual(['a', 'b,c', 'open']);
  });
});

describe('seed files with a quoted line break (the line-at-a-time reader split the row in two)', () => {
  it('a Thales CSV whose Model holds a line break reads one row per token, with their own line numbers', async () => {
    const path = join(dir, 'thales-multiline.csv');
    writeFileSync(
      path,
      [
        'Serial Number, Secret Key, Time Interval, Manufacturer, Model',
        'TSC3041, XTXKRYSVXTI35DOLJLZJIRAXD2CFQ5IA, 30, GA, "LT',
        'second line"',
        'TSC3042, Z7NNW7TJD2WD55OS4CLV47QYYO4G2XBN, 60, GA, LT',
        '',
      ].join('\n'),
    );
    const items = await collect(await parserFor('thales-csv'), path);
    // The line break stays inside the one field (a split row would show up as a stray record or problem at line 3);
    // a vendor field holding a control character is then refused by name, as hostile text is.
    expect(items.map((i) => i.problem && [i.problem.serial, i.problem.where, i.problem.code])).toEqual([
      ['TSC3041', 'thales-multiline.csv:2', 'bad-text'],
      undefined,
    ]);
    expect(items.filter((i) => i.skip)).toEqual([]);
    expect(items.map((i) => i.record && [i.record.serial, i.record.model, i.record.where])).toEqual([
      undefined,
      ['TSC3042', 'LT', 'thales-multiline.csv:4'],
    ]);
  });

  it('a privacyIDEA OATH CSV comment line with a stray quote opens nothing', async () => {
    const path = join(dir, 'oath-comment-quote.csv');
    writeFileSync(
      path,
      ['# exported by "the old server', 'OATH0001,3132333435363738393031323334353637383930,totp,6,30', ''].join('\n'),
    );
    const items = await collect(await parserFor('oath-csv'), path);
    expect(items.map((i) => i.record?.serial)).toEqual(['OATH0001']);
  });
});

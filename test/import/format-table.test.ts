/**
 * The seed formats' tables (src/import/formats/, src/export/formats/): every
 * format name has its words, its parser or writer, and appears in --format's
 * help, so the shared code (detect.ts, the services, the CLI) can take them
 * from the tables instead of naming formats.
 */
import { describe, expect, it } from 'vitest';
import { IMPORT_FORMAT_TABLE, parserFor } from '../../src/import/formats/index.js';
import { IMPORT_FORMATS, IMPORT_FORMAT_WORDS, filledBy, importFormatHelp } from '../../src/import/formats/names.js';
import { detectFormat } from '../../src/import/detect.js';
import { EXPORT_WRITERS } from '../../src/export/formats/index.js';
import { EXPORT_FORMATS, EXPORT_FORMAT_WORDS, PLAIN_ONLY_FORMATS } from '../../src/export/formats/names.js';
import { buildProgram } from '../../src/cli/main.js';

const sorted = (xs: readonly string[]) => [...xs].sort();

function optionHelp(command: string, flag: string): string {
  const cmd = buildProgram().commands.find((c) => c.name() === command)!;
  return cmd.options.find((o) => o.long === flag)!.description;
}

describe('import formats', () => {
  it('each name has exactly one entry of words and one parser entry, and every parser loads', async () => {
    expect(sorted(IMPORT_FORMAT_WORDS.map((f) => f.name))).toEqual(sorted(IMPORT_FORMATS));
    expect(sorted(IMPORT_FORMAT_TABLE.map((f) => f.name))).toEqual(sorted(IMPORT_FORMATS));
    for (const f of IMPORT_FORMATS) expect(typeof (await parserFor(f)), f).toBe('function');
  });

  it("--format's help lists every format, and the fill flags name the files whose words say so", () => {
    const help = optionHelp('import', '--format');
    expect(help).toBe(importFormatHelp());
    for (const f of IMPORT_FORMATS) expect(help).toMatch(new RegExp(`(^|, | or )${f}\\b`));
    for (const setting of ['type', 'algorithm', 'digits', 'period'] as const) {
      const words = IMPORT_FORMAT_WORDS.flatMap((f) => (f.fills?.[setting] ? [f.fills[setting]] : []));
      expect(words.length, setting).toBeGreaterThan(0);
      expect(optionHelp('import', `--${setting}`)).toContain(`(${filledBy(setting)})`);
    }
  });

  it('detection takes the header dialects and row formats from the table', () => {
    const byColumns = IMPORT_FORMAT_TABLE.filter((f) => f.columns);
    expect(byColumns.length).toBeGreaterThan(1);
    for (const f of byColumns) {
      const file = `${f.columns!.join(',')}\n${f.columns!.map(() => 'x').join(',')}\n`;
      expect(detectFormat(Buffer.from(file), 'f.csv'), f.name).toBe(f.name);
    }
    expect(IMPORT_FORMAT_TABLE.filter((f) => f.rows).length).toBeGreaterThan(1);
  });
});

describe('export formats', () => {
  it('each name has its words, and a writer unless it is the enrollment package', () => {
    expect(sorted(EXPORT_FORMAT_WORDS.map((f) => f.name))).toEqual(sorted(EXPORT_FORMATS));
    expect(sorted(Object.keys(EXPORT_WRITERS))).toEqual(sorted(EXPORT_FORMATS.filter((f) => f !== 'enrollment')));
    expect(PLAIN_ONLY_FORMATS).not.toContain('pskc');
    expect(PLAIN_ONLY_FORMATS).not.toContain('enrollment');
    expect(PLAIN_ONLY_FORMATS.length).toBe(EXPORT_FORMATS.length - 2);
  });

  it("--format's help lists every format", () => {
    const help = optionHelp('export', '--format');
    for (const f of EXPORT_FORMATS) expect(help).toMatch(new RegExp(`(^|, | or )${f}\\b`));
  });
});

/**
 * The format table of `import`: per format (by its name in ./names.ts) its
 * parser, loaded on demand (except the four modules whose column or row shapes
 * detection reads, imported with the table, as detect.ts did before), and how
 * `--format auto` tells it from the content where its rows or its header say
 * (../detect.ts asks here instead of naming formats; the formats told by
 * their XML root or line shape are detect.ts's own). One vendor's format: an
 * entry here and in ./names.ts, its parser in this folder.
 */
import { ENTRA_COLUMNS } from '../entra-csv.js';
import { THALES_COLUMNS } from '../thales-csv.js';
import type { ImportFormat, ParseContext, ParseItem, SeedParser } from '../types.js';
import { PROTECTIMUS_COLUMNS } from './protectimus-csv.js';
import { YUBICO_FORMAT_ROW, YUBIKEY_LOG_ROW } from './yubikey-csv.js';

export interface ImportFormatEntry {
  name: ImportFormat;
  parser(): Promise<SeedParser>;
  /** Known by its data rows (blank and comment lines left out), before any header is scored. */
  rows?(data: string[]): boolean;
  /** A CSV dialect known by the column names of its header line. */
  columns?: readonly string[];
  /** A header with only some of `columns` is this dialect only when it has this column too. */
  partialNeeds?: string;
}

/** In detection order: the first whose `rows` says yes wins. */
export const IMPORT_FORMAT_TABLE: readonly ImportFormatEntry[] = [
  { name: 'pskc', parser: async () => (await import('../pskc/parse.js')).parsePskc },
  { name: 'oath-csv', parser: async () => (await import('../oath-csv.js')).parseOathCsv },
  { name: 'linotp-csv', parser: async () => (await import('../linotp-csv.js')).parseLinotpCsv },
  {
    name: 'entra-csv',
    parser: async () => (await import('../entra-csv.js')).parseEntraCsv,
    columns: ENTRA_COLUMNS,
    partialNeeds: 'upn',
  },
  {
    name: 'thales-csv',
    parser: async () => (await import('../thales-csv.js')).parseThalesCsv,
    columns: THALES_COLUMNS,
  },
  {
    name: 'protectimus-csv',
    parser: async () => (await import('./protectimus-csv.js')).parseProtectimusCsv,
    columns: PROTECTIMUS_COLUMNS,
  },
  { name: 'dpw', parser: async () => (await import('../dpw.js')).parseDpw },
  { name: 'deepnet-xml', parser: async () => (await import('../deepnet-xml.js')).parseDeepnetXml },
  { name: 'otpauth', parser: async () => (await import('../otpauth.js')).parseOtpauth },
  { name: 'usersfile', parser: async () => (await import('../usersfile.js')).parseUsersFile },
  {
    name: 'etoken-dat',
    parser: async () => (await import('../etoken-dat.js')).parseEtokenDat,
    rows: (data) => data.some((l) => /^\s*(dn|sccAuthenticatorId|sccTokenData)\s*:/.test(l)),
  },
  {
    name: 'yubikey-csv',
    parser: async () => (await import('./yubikey-csv.js')).parseYubikeyCsv,
    // The traditional log has a slot type in every row; the other layout, a serial and an ISO date.
    rows: (data) =>
      data.some((l) => YUBIKEY_LOG_ROW.test(l)) || (data.length > 0 && data.every((l) => YUBICO_FORMAT_ROW.test(l))),
  },
  { name: 'safenet-xml', parser: async () => (await import('../safenet-xml.js')).parseSafenetXml },
];

function entryOf(format: ImportFormat): ImportFormatEntry {
  const hit = IMPORT_FORMAT_TABLE.find((f) => f.name === format);
  // The names and this table are checked against each other (test/import/format-table.test.ts).
  if (!hit) throw new Error(`import format ${format} has no entry in the format table`);
  return hit;
}

export async function parserFor(format: ImportFormat): Promise<SeedParser> {
  return entryOf(format).parser();
}

/** A parser's items a batch at a time: PSKC reads in batches itself; the others are taken one item at a time. */
export async function batchParserFor(
  format: ImportFormat,
): Promise<(path: string, ctx: ParseContext) => AsyncIterable<ParseItem[]>> {
  if (format === 'pskc') return (await import('../pskc/parse.js')).parsePskcBatches;
  const parse = await parserFor(format);
  return async function* (path, ctx) {
    for await (const item of parse(path, ctx)) yield [item];
  };
}

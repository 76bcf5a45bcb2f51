/**
 * Protectimus token import CSV: `serialNumber,secret`, base32. The file
 * carries nothing else: the tokens are TOTP SHA-1, 6 digits, 30 s (the
 * Protectimus hardware defaults) unless `import --type/--algorithm/--digits/--period`
 * say otherwise; manufacturer left empty (not guessed).
 */
import { decodeBase32 } from '../../core/codecs.js';
import { parseHeaderCsv } from '../header-csv.js';
import { buildRecord } from '../record.js';
import type { ParseContext, ParseItem } from '../types.js';

export const PROTECTIMUS_COLUMNS = ['serialNumber', 'secret'] as const;

export function parseProtectimusCsv(file: string, ctx: ParseContext): AsyncIterable<ParseItem> {
  return parseHeaderCsv(file, ctx, { title: 'Protectimus', columns: PROTECTIMUS_COLUMNS }, (row, where) =>
    buildRecord(
      {
        serial: row.serialNumber,
        seed: decodeBase32(row.secret!, 'secret (base32)'),
        attributes: { importedFrom: where },
      },
      where,
      { flags: ctx.defaults, assumed: { type: 'totp', algorithm: 'sha1', digits: 6, period: 30 } },
    ),
  );
}

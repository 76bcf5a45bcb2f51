/**
 * Thales / SafeNet generic OATH TOTP CSV:
 * `Serial Number, Secret Key, Time Interval, Manufacturer, Model`, base32
 * secrets, TOTP SHA-1 with 6 digits (the OTP110: Manufacturer GA, Model LT).
 */
import { decodeBase32 } from '../core/codecs.js';
import { parseHeaderCsv } from './header-csv.js';
import { buildRecord } from './record.js';
import type { ParseContext, ParseItem } from './types.js';

export const THALES_COLUMNS = ['Serial Number', 'Secret Key', 'Time Interval', 'Manufacturer', 'Model'] as const;

export function parseThalesCsv(file: string, ctx: ParseContext): AsyncIterable<ParseItem> {
  return parseHeaderCsv(file, ctx, { title: 'Thales/SafeNet', columns: THALES_COLUMNS }, (row, where) =>
    buildRecord(
      {
        serial: row['Serial Number'],
        manufacturer: row.Manufacturer,
        model: row.Model,
        period: row['Time Interval'],
        seed: decodeBase32(row['Secret Key']!, 'Secret Key (base32)'),
        attributes: { importedFrom: where },
      },
      where,
      // The file has no type, hash or code length column: the OTP110's values unless the flags say.
      { flags: ctx.defaults, assumed: { type: 'totp', algorithm: 'sha1', digits: 6, period: 30 } },
    ),
  );
}

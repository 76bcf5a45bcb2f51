/**
 * Microsoft Entra ID hardware OATH token CSV:
 * `upn,serial number,secret key,time interval,manufacturer,model`, base32
 * secrets, TOTP SHA-1 with 6 digits (Entra takes nothing else).
 */
import { decodeBase32 } from '../core/codecs.js';
import { parseHeaderCsv } from './header-csv.js';
import { buildRecord } from './record.js';
import type { ParseContext, ParseItem } from './types.js';

export const ENTRA_COLUMNS = ['upn', 'serial number', 'secret key', 'time interval', 'manufacturer', 'model'] as const;

export function parseEntraCsv(file: string, ctx: ParseContext): AsyncIterable<ParseItem> {
  return parseHeaderCsv(file, ctx, { title: 'Entra ID', columns: ENTRA_COLUMNS }, (row, where) =>
    buildRecord(
      {
        serial: row['serial number'],
        manufacturer: row.manufacturer,
        model: row.model,
        type: 'totp',
        algorithm: 'sha1',
        digits: 6,
        period: row['time interval'],
        seed: decodeBase32(row['secret key']!, 'secret key (base32)'),
        attributes: { importedFrom: where, ...(row.upn ? { upn: row.upn } : {}) },
      },
      where,
      // Entra's format fixes TOTP, SHA-1, 6 digits: a flag that says otherwise is refused.
      { flags: ctx.defaults, assumed: { period: 30 } },
    ),
  );
}

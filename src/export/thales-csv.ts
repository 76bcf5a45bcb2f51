/**
 * The Thales / SafeNet generic OATH seed file: `Serial Number, Secret Key,
 * Time Interval, Manufacturer, Model`, base32. The file has no column for the
 * type, hash or code length, so the importer takes TOTP, HMAC-SHA1 and 6
 * digits: any other token is reported and left out.
 */
import { encodeBase32 } from '../core/codecs.js';
import { csvRow } from './csv-cells.js';
import type { ExportToken, FormatWriter } from './types.js';

export const THALES_HEADER = 'Serial Number, Secret Key, Time Interval, Manufacturer, Model';

export class ThalesCsvWriter implements FormatWriter {
  readonly encrypted = false;

  refuse(t: ExportToken): string | null {
    const tok = t.token;
    if (tok.type !== 'totp') return 'the Thales seed file carries TOTP tokens only; this one is HOTP';
    if (tok.algorithm !== 'sha1')
      return `the Thales seed file has no hash column (SHA-1 is assumed); this token is ${tok.algorithm.toUpperCase()}`;
    if (tok.digits !== 6)
      return `the Thales seed file has no code length column (6 is assumed); this token shows ${tok.digits} digits`;
    return null;
  }

  header(): string {
    return THALES_HEADER + '\r\n';
  }

  entry(t: ExportToken): string {
    const tok = t.token;
    return csvRow([tok.serial, encodeBase32(t.seed), tok.period, tok.manufacturer, tok.model ?? ''], ', ');
  }

  footer(): string {
    return '';
  }
}

/**
 * What privacyIDEA and LinOTP pass over in their OATH CSV files, the same way
 * for both readers and for format detection: blank lines, comment lines (also
 * after leading blanks), rows with only a serial and rows with no serial.
 */
import type { ParseItem } from './types.js';

/** A blank line or a `#` comment, leading blanks allowed: never a token. */
export function isBlankOrComment(text: string): boolean {
  const t = text.trimStart();
  return t === '' || t.startsWith('#');
}

/**
 * Why a row that names no token is left out, or null for a row to read.
 * privacyIDEA skips a row without a serial and one with a serial but no further column.
 */
export function whyNoToken(fields: string[]): string | null {
  const [serial, seed] = fields;
  if (!serial) return 'the row has no serial: left out, as privacyIDEA and LinOTP leave it out';
  if (fields.length < 2 && !seed)
    return `the row holds only a serial (${serial.slice(0, 40)}), no seed: left out, as privacyIDEA leaves it out`;
  return null;
}

export function skipItem(where: string, message: string, serial?: string): ParseItem {
  return { skip: { where, message, serial: serial || undefined } };
}

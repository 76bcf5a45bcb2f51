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
    return `the row holds only ${mayBeSeed(serial) ? `one value (not shown: ${serial.length} characters that may be a seed)` : `a serial (${serial})`}, no seed: left out, as privacyIDEA leaves it out`;
  return null;
}

/** A lone value that may be a key rather than a serial: long hex, base32 or base64. Never printed. */
export function mayBeSeed(value: string): boolean {
  return value.length > 24 || /^[0-9a-f]{16,}$/i.test(value) || /^[A-Z2-7]{16,}=*$/i.test(value);
}

export function skipItem(where: string, message: string, serial?: string): ParseItem {
  return { skip: { where, message, serial: serial && !mayBeSeed(serial) ? serial : undefined } };
}

/**
 * Protectimus' token import file: `serialNumber,secret` (base32). Type, hash,
 * code length and time step are chosen once for the whole file in
 * Protectimus' import dialog, so one file holds tokens of one spec: the first
 * token exported sets it, and a token of another spec is reported and left
 * out (export it in a second file with --serials).
 */
import { encodeBase32 } from '../../core/codecs.js';
import { csvRow } from '../csv-cells.js';
import type { ExportToken, FormatWriter } from '../types.js';

export const PROTECTIMUS_HEADER = 'serialNumber,secret';

function specOf(t: ExportToken): string {
  const tok = t.token;
  return `${tok.type.toUpperCase()} ${tok.algorithm.toUpperCase()} ${tok.digits} digits${tok.type === 'totp' ? ` ${tok.period} s` : ''}`;
}

export class ProtectimusCsvWriter implements FormatWriter {
  readonly encrypted = false;
  /** The spec of the file, set by the first token: choose it in the import dialog. */
  fileSpec: string | null = null;

  refuse(t: ExportToken): string | null {
    const spec = specOf(t);
    if (this.fileSpec !== null && spec !== this.fileSpec) {
      return `Protectimus takes one token spec per file; this file is ${this.fileSpec} and this token is ${spec}`;
    }
    return null;
  }

  header(): string {
    return PROTECTIMUS_HEADER + '\r\n';
  }

  entry(t: ExportToken): string {
    this.fileSpec ??= specOf(t);
    return csvRow([t.token.serial, encodeBase32(t.seed)]);
  }

  footer(): string {
    return '';
  }

  notes(): string[] {
    return this.fileSpec
      ? [`the file's tokens are ${this.fileSpec}: choose these settings in Protectimus' import dialog`]
      : [];
  }
}

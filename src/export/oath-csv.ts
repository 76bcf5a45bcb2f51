/**
 * privacyIDEA's OATH CSV: `serial, seed (hex), type, otplen, timestep|counter`,
 * and with a Resource the `# version: 2` form that puts `user, resolver,
 * realm` in front. privacyIDEA infers the hash from the seed length (64 hex
 * digits = SHA-256, 128 = SHA-512), so a token whose seed length says another
 * hash than its own cannot be written without changing it: it is left out.
 */
import { encodeHex } from '../core/codecs.js';
import { neutraliseCell, unquotableCell } from './csv-cells.js';
import type { ExportToken, FormatWriter } from './types.js';

const HASH_BY_SEED_BYTES: Record<number, string> = { 32: 'sha256', 64: 'sha512' };

export class OathCsvWriter implements FormatWriter {
  readonly encrypted = false;
  /** version 2 carries user, resolver and realm (the Resource's name). */
  constructor(private readonly opts: { withUsers: boolean }) {}

  refuse(t: ExportToken): string | null {
    const implied = HASH_BY_SEED_BYTES[t.seed.length] ?? 'sha1';
    if (implied !== t.token.algorithm) {
      return `${t.token.algorithm.toUpperCase()} with a ${t.seed.length}-byte seed: privacyIDEA infers the hash from the seed length and would read it as ${implied.toUpperCase()}`;
    }
    const cells: Record<string, string> = { serial: t.token.serial };
    if (this.opts.withUsers) {
      cells.user = t.user ?? '';
      cells.realm = t.resource ?? '';
    } else if (t.token.serial.startsWith('#')) {
      return "the serial starts with '#', which privacyIDEA reads as a comment line";
    }
    return unquotableCell(cells);
  }

  header(): string {
    return this.opts.withUsers
      ? '# version: 2\n# user, resolver, realm, serial, seed (hex), type, otplen, timestep or counter\n'
      : '# serial, seed (hex), type, otplen, timestep or counter\n';
  }

  entry(t: ExportToken): string {
    const tok = t.token;
    const cells = [
      tok.serial,
      encodeHex(t.seed),
      tok.type,
      String(tok.digits),
      String(tok.type === 'totp' ? tok.period : tok.counter),
    ];
    // An unassigned token keeps the user columns empty; the realm goes with the user.
    if (this.opts.withUsers) cells.unshift(t.user ?? '', '', t.user ? (t.resource ?? '') : '');
    return cells.map(neutraliseCell).join(', ') + '\n';
  }

  footer(): string {
    return '';
  }
}

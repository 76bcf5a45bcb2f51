/**
 * DPW (LinOTP "day password") lists: `serial<blanks>hex-secret` per line.
 * A day password is an HOTP code over the day number, which is TOTP with a
 * one-day step: imported as TOTP, SHA-1, 6 digits, 86400 s.
 */
import { decodeHex } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { buildRecord, itemOf } from './record.js';
import { lineWhere, readLines } from './text.js';
import type { ParseContext, ParseItem } from './types.js';

export const DPW_PERIOD = 86400;

export async function* parseDpw(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let rows = 0;
  for await (const { text, line } of readLines(file, ctx)) {
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const where = lineWhere(ctx, line);
    const m = /^(\S+)\s+(\S.*)$/.exec(t);
    rows++;
    yield itemOf(
      () => {
        if (!m) throw new DataError('a DPW line is: serial, blanks, hex secret', { code: 'missing-column' });
        return buildRecord(
          { serial: m[1], type: 'totp', algorithm: 'sha1', digits: 6, period: DPW_PERIOD, seed: decodeHex(m[2]!, 'secret (hex)'), attributes: { importedFrom: where, sourceType: 'dpw' } },
          where,
        );
      },
      where,
      m?.[1],
    );
  }
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file holds no tokens`, { code: 'empty-file' });
}

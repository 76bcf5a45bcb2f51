/**
 * DPW (LinOTP "day password") lists: `serial<blanks>key` per line, the key in
 * hex. A day password is not OATH: its code is MD5 over the key text and the
 * date (core/dpw.ts), so the token is stored as type dpw with the key text as
 * its seed (LinOTP hashes the text as written, so "AB" and "ab" differ).
 * The file says nothing else: 6 digits unless `import --digits` says otherwise.
 */
import { DataError } from '../core/errors.js';
import { isBlankOrComment, skipItem } from './csv-rows.js';
import { buildRecord, itemOf } from './record.js';
import { lineWhere, readLines } from './text.js';
import type { ParseContext, ParseItem } from './types.js';

/** The period stored for a day password: one day (its code changes at local midnight). */
export const DPW_PERIOD = 86400;

export async function* parseDpw(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let rows = 0;
  for await (const { text, line } of readLines(file, ctx)) {
    if (isBlankOrComment(text)) continue;
    const where = lineWhere(ctx, line);
    const m = /^(\S+)(?:\s+(\S.*))?$/.exec(text.trim());
    if (!m?.[2]) {
      yield skipItem(where, 'the line holds only a serial, no key: left out', m?.[1]);
      continue;
    }
    const key = m[2].trim();
    rows++;
    yield itemOf(
      () => {
        if (!/^[0-9a-fA-F]+$/.test(key))
          throw new DataError('the key of a DPW line is hex, without blanks', { code: 'bad-hex' });
        return buildRecord(
          {
            serial: m[1],
            type: 'dpw',
            algorithm: 'sha1',
            period: DPW_PERIOD,
            seed: Buffer.from(key, 'ascii'),
            attributes: { importedFrom: where },
          },
          where,
          {
            flags: ctx.defaults,
            assumed: { digits: 6 },
          },
        );
      },
      where,
      m[1],
    );
  }
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file holds no tokens`, { code: 'empty-file' });
}

/**
 * LinOTP OATH CSV: `serial, key(hex), [hotp|totp|ocra2], [otplen|ocrasuite],
 * [timestep], [sha1|sha256|sha512]`. Empty type means hotp; the time step is
 * for TOTP only (the 5th column is not a HOTP counter here); without a hash
 * column, 128 hex digits mean sha512 and 64 sha256, as LinOTP reads it.
 */
import { decodeHex } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { isBlankOrComment, skipItem, whyNoToken } from './csv-rows.js';
import { buildRecord, itemOf } from './record.js';
import { lineWhere, readCsvRecords } from './text.js';
import type { ParseContext, ParseItem } from './types.js';

export async function* parseLinotpCsv(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let rows = 0;
  for await (const { text, line, fields } of readCsvRecords(file, ctx, { isLiteral: isBlankOrComment })) {
    if (isBlankOrComment(text)) continue;
    const where = lineWhere(ctx, line);
    const [serial, keyHex, typeField, digits, step, hash] = fields;
    const noToken = whyNoToken(fields);
    if (noToken) {
      yield skipItem(where, noToken, serial);
      continue;
    }
    rows++;
    yield itemOf(
      () => {
        if (!keyHex)
          throw new DataError('the row has no key column (serial, key, type, digits, time step, hash)', {
            code: 'missing-column',
          });
        let type = (typeField || ctx.defaults?.type || 'hotp').toLowerCase();
        if (type === 'hmac') type = 'hotp';
        if (type !== 'hotp' && type !== 'totp')
          throw new DataError(
            `token type '${type}' cannot be served from this format (hotp and totp; a day password comes from a DPW file)`,
            { code: 'unsupported-algorithm' },
          );
        const seed = decodeHex(keyHex, 'key (hex)');
        const hexDigits = keyHex.replace(/\s+/g, '').length;
        const implied = hexDigits === 128 ? 'sha512' : hexDigits === 64 ? 'sha256' : 'sha1';
        // LinOTP falls back to 30 s when the time step does not parse.
        const period = type === 'totp' && step && /^\d+$/.test(step) ? step : undefined;
        return buildRecord(
          {
            serial,
            type: typeField && type,
            algorithm: hash,
            digits,
            period,
            counter: 0,
            seed,
            attributes: { importedFrom: where },
          },
          where,
          {
            flags: ctx.defaults,
            assumed: { type: 'hotp', algorithm: implied, digits: 6, period: 30 },
          },
        );
      },
      where,
      serial,
    );
  }
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file holds no tokens`, { code: 'empty-file' });
}

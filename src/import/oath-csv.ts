/**
 * privacyIDEA OATH CSV: `serial, seed(hex)[, type[, otplen[, timestep|counter]]]`,
 * or with `# version: 2` on the first line `user, resolver, realm` in front.
 * Defaults hotp, 6 digits, 30 s; the 5th column is the counter for HOTP and
 * the time step for TOTP; the hash follows from the seed length (64 hex
 * digits sha256, 128 sha512), as privacyIDEA reads it.
 */
import { decodeHex } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { isBlankOrComment, skipItem, whyNoToken } from './csv-rows.js';
import { buildRecord, itemOf } from './record.js';
import { lineWhere, readCsvRecords } from './text.js';
import type { ParseContext, ParseItem } from './types.js';

/** privacyIDEA's rule: the hash from the number of hex digits of the seed. */
export function hashFromHexLength(hexDigits: number): string {
  switch (hexDigits) {
    case 64:
      return 'sha256';
    case 128:
      return 'sha512';
    case 56:
      return 'sha224';
    case 96:
      return 'sha384';
    default:
      return 'sha1';
  }
}

export async function* parseOathCsv(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let version = 1;
  let rows = 0;
  let seenContent = false;
  for await (const { text, line, fields } of readCsvRecords(file, ctx, { isLiteral: isBlankOrComment })) {
    if (text.trim() === '') continue;
    // The version line is the first line that is not blank (privacyIDEA writes it first; an editor may add a blank line).
    if (!seenContent) {
      seenContent = true;
      const m = /^\s*#\s*version:\s*(\d+)/.exec(text);
      if (m) {
        version = Number(m[1]);
        if (version !== 1 && version !== 2)
          throw new DataError(
            `${lineWhere(ctx, line)}: OATH CSV version ${version} is unknown (tokensmith reads versions 1 and 2)`,
            { code: 'bad-format', where: lineWhere(ctx, line) },
          );
        continue;
      }
    }
    if (isBlankOrComment(text)) continue;
    const where = lineWhere(ctx, line);
    const user = version === 2 ? fields.splice(0, 3) : [];
    const [serial, seedHex, typeField, digits, fifth] = fields;
    const noToken = version === 2 && user.length < 3 ? null : whyNoToken(fields);
    if (noToken) {
      yield skipItem(where, noToken, serial);
      continue;
    }
    rows++;
    yield itemOf(
      () => {
        if (version === 2 && user.length < 3)
          throw new DataError(
            'a version 2 row starts with user, resolver, realm (they may be empty) before the serial',
            { code: 'missing-column' },
          );
        if (!seedHex)
          throw new DataError('the row has no seed column (serial, seed, type, digits, time step or counter)', {
            code: 'missing-column',
          });
        const type = (typeField || ctx.defaults?.type || 'hotp').toLowerCase();
        if (type !== 'hotp' && type !== 'totp')
          throw new DataError(
            `token type '${type}' cannot be served from this format (hotp and totp; a day password comes from a DPW file)`,
            { code: 'unsupported-algorithm' },
          );
        const seed = decodeHex(seedHex, 'seed (hex)');
        const algorithm = hashFromHexLength(seedHex.replace(/\s+/g, '').length);
        if ((algorithm === 'sha224' || algorithm === 'sha384') && !ctx.defaults?.algorithm)
          throw new DataError(
            `a ${seedHex.length}-digit seed means ${algorithm} in this format, which tokensmith cannot serve`,
            { code: 'unsupported-algorithm' },
          );
        const attributes: Record<string, unknown> = { importedFrom: where };
        if (user[0]) attributes.user = user[0];
        if (user[1]) attributes.resolver = user[1];
        if (user[2]) attributes.realm = user[2];
        return buildRecord(
          {
            serial,
            type: typeField,
            digits,
            period: type === 'totp' ? fifth : undefined,
            counter: type === 'hotp' ? fifth || 0 : 0,
            seed,
            attributes,
          },
          where,
          // The hash follows from the seed length (privacyIDEA's rule) unless --algorithm says.
          { flags: ctx.defaults, assumed: { type: 'hotp', algorithm, digits: 6, period: 30 } },
        );
      },
      where,
      serial,
    );
  }
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file holds no tokens`, { code: 'empty-file' });
}

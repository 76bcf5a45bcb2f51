/**
 * The YubiKey personalization tool's CSV log. Two layouts, as privacyIDEA and
 * LinOTP read them:
 * - "traditional": `type, date, slot, public id (modhex), private id, secret (hex),
 *   ..., digits in column 12`, with `LOGGING START, date` lines between sessions;
 * - "Yubico format": `serial, public id, private id, secret (hex), , date,`
 *   (private id `0` is OATH-HOTP, empty is a static password).
 * Only OATH-HOTP slots are OATH tokens; Yubico OTP, static password and
 * challenge-response slots are refused by name. Serials are privacyIDEA's:
 * `UBOM` + the public id read as a number (8 digits) + `_` + slot, or
 * `UBOM<serial>_X` in the Yubico format (which does not say the slot).
 */
import { decodeHex } from '../../core/codecs.js';
import { DataError } from '../../core/errors.js';
import { isBlankOrComment, skipItem } from '../csv-rows.js';
import { buildRecord, itemOf, problemOf } from '../record.js';
import { lineWhere, readCsvRecords } from '../text.js';
import type { ParseContext, ParseItem, SeedRecord } from '../types.js';

/** A row of the traditional log: the slot type the tool wrote, then a date. */
export const YUBIKEY_LOG_ROW =
  /^\s*(OATH-HOTP|Yubico OTP|Static Password[^,]*|Challenge-Response[^,]*|LOGGING START)\s*,/i;
/** A row of the Yubico format: serial, public id, private id, hex secret, blank, ISO date. */
export const YUBICO_FORMAT_ROW = /^\s*\d+\s*,[^,]*,[^,]*,\s*[0-9a-fA-F]*\s*,[^,]*,\s*\d{4}-\d\d-\d\dT[\d:]+\s*,?/;

const MODHEX = 'cbdefghijklnrtuv';
/** The slot types of the traditional log, the only first fields echoed in a message. */
const SLOT_TYPE = /^(OATH-HOTP|Yubico OTP|Static Password(: [\w -]+)?|Challenge-Response(: [\w -]+)?)$/i;

/** The public id (modhex) as a number, the way privacyIDEA names the token. */
export function modhexToNumber(publicId: string): bigint {
  let hex = '';
  for (const ch of publicId.toLowerCase()) {
    const i = MODHEX.indexOf(ch);
    if (i < 0) throw new DataError(`public id '${publicId}' is not modhex (letters ${MODHEX})`, { code: 'bad-serial' });
    hex += i.toString(16);
  }
  return BigInt(`0x${hex}`);
}

function refusedSlot(kind: string, slot: string): DataError {
  return new DataError(
    `a '${kind}' slot${slot ? ` (slot ${slot})` : ''} is not an OATH token: tokensmith serves OATH-HOTP and TOTP only; leave this row out of the file`,
    {
      code: 'unsupported-algorithm',
    },
  );
}

function hotpRecord(
  serial: string,
  secretHex: string,
  digits: string | undefined,
  where: string,
  publicId: string,
  ctx: ParseContext,
): SeedRecord {
  const attributes: Record<string, unknown> = { importedFrom: where };
  if (publicId) attributes.publicId = publicId;
  // Column 12 of the log holds 6 or 8 (LinOTP reads it); the Yubico format has none, so 6.
  const len = digits === '8' || digits === '6' ? digits : undefined;
  return buildRecord(
    {
      serial,
      manufacturer: 'Yubico',
      type: 'hotp',
      algorithm: 'sha1',
      digits: len,
      counter: 0,
      seed: decodeHex(secretHex, 'secret (hex)'),
      attributes,
    },
    where,
    {
      flags: ctx.defaults,
      assumed: { digits: 6 },
    },
  );
}

/** One row: a record, a refusal naming the slot type, or a skip (no serial to give it). */
function readRow(cells: string[], where: string, ctx: ParseContext): ParseItem | null {
  const kind = cells[0]!;
  if (/^LOGGING START$/i.test(kind)) return null;
  if (/^\d+$/.test(kind)) {
    const serial = `UBOM${kind}_X`;
    if (cells[2] === '0')
      return itemOf(() => hotpRecord(serial, cells[3] ?? '', undefined, where, cells[1] ?? '', ctx), where, serial);
    // privacyIDEA's names for these: UBAM (Yubico OTP) and UBSM (static password).
    const isStatic = cells[2] === '';
    return itemOf(
      () => {
        throw refusedSlot(isStatic ? 'Static Password' : 'Yubico OTP', '');
      },
      where,
      `${isStatic ? 'UBSM' : 'UBAM'}${kind}_X`,
    );
  }
  const slot = cells[2] ?? '';
  // Only a slot type the tool writes is named: an unknown first field may be a secret (a line broken in two).
  if (!SLOT_TYPE.test(kind))
    return {
      problem: {
        where,
        code: 'bad-format',
        message:
          'the row does not start with a slot type the YubiKey personalization tool writes (OATH-HOTP, Yubico OTP, Static Password, Challenge-Response) nor a serial number: is it the rest of the line before?',
      },
    };
  if (!/^OATH-HOTP$/i.test(kind))
    return itemOf(() => {
      throw refusedSlot(kind, slot);
    }, where);
  const publicId = cells[3] ?? '';
  if (publicId === '')
    return skipItem(
      where,
      'an OATH-HOTP row without a public id has no serial: left out, as privacyIDEA leaves it out',
    );
  let serial: string;
  try {
    serial = `UBOM${modhexToNumber(publicId).toString().padStart(8, '0')}_${slot}`;
  } catch (err) {
    return { problem: problemOf(err, where) };
  }
  return itemOf(() => hotpRecord(serial, cells[5] ?? '', cells[11], where, publicId, ctx), where, serial);
}

export async function* parseYubikeyCsv(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let rows = 0;
  for await (const { text, line, fields: cells } of readCsvRecords(file, ctx, { isLiteral: isBlankOrComment })) {
    if (isBlankOrComment(text)) continue;
    const where = lineWhere(ctx, line);
    if (cells.length < 6 && !/^LOGGING START$/i.test(cells[0] ?? '')) {
      yield {
        problem: {
          where,
          code: 'missing-column',
          message: `the row has ${cells.length} fields; a row of the YubiKey personalization log has at least 6 (type, date, slot, public id, private id, secret)`,
        },
      };
      continue;
    }
    const item = readRow(cells, where, ctx);
    if (!item) continue;
    rows++;
    yield item;
  }
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file holds no YubiKey slots`, { code: 'empty-file' });
}

/**
 * SafeWord / eToken PASS `.dat` files, as LinOTP's parse_dat_data reads them:
 * LDIF-like records separated by blank lines, `key: value` lines, `#` comments.
 * `sccAuthenticatorId` is the serial, `sccTokenType` the model, and
 * `sccTokenData: sccKey=<hex>;sccMode=E|T;sccPwLen=6;sccTick=30;sccPrTime=...;crypto=HmacSHA256`
 * the token. A time-based record with `sccPrTime` counts its time steps from
 * 2000-01-01 00:00 UTC, not 1970 (LinOTP sets that offset): T0 = 946684800.
 */
import { decodeHex } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { skipItem } from './csv-rows.js';
import { buildRecord, itemOf } from './record.js';
import { lineWhere, readLines } from './text.js';
import type { ParseContext, ParseItem, SeedRecord } from './types.js';

/** 2000-01-01T00:00:00Z: where an eToken PASS time token starts counting (LinOTP's default start date). */
export const ETOKEN_T0 = 946684800;

interface DatRecord {
  line: number;
  fields: Map<string, string>;
}

function tokenData(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function toRecord(rec: DatRecord, serial: string, where: string, ctx: ParseContext): SeedRecord {
  const data = tokenData(rec.fields.get('sccTokenData') ?? '');
  const key = data.get('sccKey');
  if (!key) throw new DataError('the record has no sccKey in its sccTokenData', { code: 'missing-secret' });
  const mode = (data.get('sccMode') ?? '').toUpperCase();
  if (mode !== 'E' && mode !== 'T')
    throw new DataError(`sccMode '${data.get('sccMode') ?? ''}' is neither E (event, HOTP) nor T (time, TOTP)`, {
      code: 'unsupported-algorithm',
    });
  const crypto = data.get('crypto');
  const algorithm = crypto === undefined ? undefined : { hmacsha1: 'sha1', hmacsha256: 'sha256' }[crypto.toLowerCase()];
  if (crypto !== undefined && !algorithm)
    throw new DataError(`crypto '${crypto}' is not one tokensmith reads in a .dat file (HmacSHA1, HmacSHA256)`, {
      code: 'unsupported-algorithm',
    });
  const type = mode === 'T' ? 'totp' : 'hotp';
  const attributes: Record<string, unknown> = { importedFrom: where };
  const programmed = data.get('sccPrTime');
  if (programmed) attributes.programmedAt = programmed;
  const record = buildRecord(
    {
      serial,
      manufacturer: 'SafeNet',
      model: rec.fields.get('sccTokenType') ?? null,
      type,
      algorithm,
      digits: data.get('sccPwLen'),
      period: type === 'totp' ? data.get('sccTick') : undefined,
      counter: 0,
      seed: decodeHex(key, 'sccKey (hex)'),
      attributes,
    },
    where,
    { flags: ctx.defaults, assumed: { algorithm: 'sha1', digits: 6, period: 30 } },
  );
  return type === 'totp' && programmed ? { ...record, t0: ETOKEN_T0 } : record;
}

function itemOfRecord(rec: DatRecord, ctx: ParseContext): ParseItem {
  const where = lineWhere(ctx, rec.line);
  const serial = rec.fields.get('sccAuthenticatorId');
  if (!serial) return skipItem(where, 'a record without sccAuthenticatorId has no serial: left out');
  return itemOf(() => toRecord(rec, serial, where, ctx), where, serial);
}

export async function* parseEtokenDat(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let rec: DatRecord | null = null;
  let records = 0;
  for await (const { text, line } of readLines(file, ctx)) {
    const t = text.trim();
    if (t === '') {
      if (rec) {
        records++;
        yield itemOfRecord(rec, ctx);
      }
      rec = null;
      continue;
    }
    if (t.startsWith('#')) continue;
    const colon = t.indexOf(':');
    if (colon <= 0) {
      yield {
        problem: {
          where: lineWhere(ctx, line),
          code: 'bad-format',
          message: "a line of a .dat record is 'name: value'",
        },
      };
      continue;
    }
    rec ??= { line, fields: new Map() };
    rec.fields.set(t.slice(0, colon).trim(), t.slice(colon + 1).trim());
  }
  if (rec) {
    records++;
    yield itemOfRecord(rec, ctx);
  }
  if (records === 0) throw new DataError(`${ctx.fileName}: the file holds no token records`, { code: 'empty-file' });
}

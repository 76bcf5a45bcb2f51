/**
 * Turning loose fields from a file into a validated SeedRecord, and a
 * DataError into a RecordProblem, the same way for every format.
 */
import { DataError } from '../core/errors.js';
import { checkDataText } from '../core/text-guard.js';
import { parseAlgorithm, parseTokenType, validateSeedLength, validateSpec } from '../core/spec.js';
import type { ParseItem, RecordProblem, SeedRecord, SpecDefaults } from './types.js';

/** The fields `import --type/--algorithm/--digits/--period` may give. */
const FLAG_FIELDS = ['type', 'algorithm', 'digits', 'period'] as const;
type FlagField = (typeof FLAG_FIELDS)[number];

/** How a format fills what a file leaves out: the flags first, then what the format assumes. */
export interface SpecFill {
  flags?: SpecDefaults;
  /** The format's own defaults for fields its files may leave out (TOTP, SHA-1, 6, 30 for a file of bare seeds). */
  assumed?: Partial<Record<FlagField, string | number>>;
}

function normalized(field: FlagField, value: string | number, where: string): string | number {
  if (field === 'type') return parseTokenType(String(value), where);
  if (field === 'algorithm') return parseAlgorithm(String(value), where);
  return Number(String(value).trim());
}

/** A field's value: the file's (refused if a flag says otherwise), else the flag's, else the format's assumption. */
function fillField(
  field: FlagField,
  fromFile: string | number | undefined,
  fill: SpecFill,
  where: string,
): string | number | undefined {
  const flag = fill.flags?.[field];
  if (fromFile === undefined || fromFile === '') return flag ?? fill.assumed?.[field];
  if (flag !== undefined && normalized(field, fromFile, where) !== normalized(field, flag, where)) {
    throw new DataError(
      `the file gives ${field} ${fromFile}, but --${field} ${flag} was given: --${field} is for files that do not carry it; drop it (or fix the file)`,
      {
        code: 'flag-conflict',
        where,
      },
    );
  }
  return fromFile;
}

export interface RawRecord {
  serial: string | undefined;
  manufacturer?: string | null;
  model?: string | null;
  type?: string;
  algorithm?: string;
  digits?: string | number;
  period?: string | number;
  counter?: string | number;
  driftSteps?: number;
  seed: Buffer;
  attributes?: Record<string, unknown>;
}

/** Validates the fields of one record; throws a DataError naming the bad field. */
export function buildRecord(raw: RawRecord, where: string, fill?: SpecFill): SeedRecord {
  if (fill) {
    raw = { ...raw };
    for (const field of FLAG_FIELDS) raw[field] = fillField(field, raw[field], fill, where) as never;
  }
  const serial = raw.serial?.trim();
  if (!serial) throw new DataError('no serial number', { code: 'missing-serial', where });
  checkDataText(serial, 'serial', 'serial', where);
  const manufacturer = checkDataText(raw.manufacturer?.trim() ?? '', 'manufacturer', 'manufacturer', where);
  const model = checkDataText(raw.model?.trim() ?? '', 'model', 'model', where);
  const spec = validateSpec(
    { type: raw.type, algorithm: raw.algorithm, digits: raw.digits, period: raw.period, counter: raw.counter },
    where,
  );
  validateSeedLength(raw.seed, where);
  return {
    serial,
    manufacturer,
    model: model || null,
    ...spec,
    driftSteps: raw.driftSteps ?? 0,
    seed: raw.seed,
    attributes: raw.attributes ?? {},
    where,
  };
}

export function problemOf(err: unknown, where: string, serial?: string): RecordProblem {
  if (err instanceof DataError) {
    // The place goes in `where`; the message says what is wrong.
    const message = err.message.startsWith(`${where}: `) ? err.message.slice(where.length + 2) : err.message;
    return { where, message, serial, code: err.code };
  }
  throw err;
}

/** Runs `make` and wraps the outcome as a parse item: a record, or the problem that stopped it. */
export function itemOf(make: () => SeedRecord, where: string, serial?: string): ParseItem {
  try {
    return { record: make() };
  } catch (err) {
    return { problem: problemOf(err, where, serial) };
  }
}

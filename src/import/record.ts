/**
 * Turning loose fields from a file into a validated SeedRecord, and a
 * DataError into a RecordProblem, the same way for every format.
 */
import { DataError } from '../core/errors.js';
import { validateSeedLength, validateSpec } from '../core/spec.js';
import type { ParseItem, RecordProblem, SeedRecord } from './types.js';

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
export function buildRecord(raw: RawRecord, where: string): SeedRecord {
  const serial = raw.serial?.trim();
  if (!serial) throw new DataError('no serial number', { code: 'missing-serial', where });
  if (serial.length > 128 || /[\x00-\x1f]/.test(serial)) throw new DataError(`serial '${serial.slice(0, 40)}' is not a serial number (too long or control characters)`, { code: 'bad-serial', where });
  const spec = validateSpec({ type: raw.type, algorithm: raw.algorithm, digits: raw.digits, period: raw.period, counter: raw.counter }, where);
  validateSeedLength(raw.seed, where);
  return {
    serial,
    manufacturer: raw.manufacturer?.trim() ?? '',
    model: raw.model?.trim() || null,
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

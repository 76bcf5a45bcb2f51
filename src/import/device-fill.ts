/**
 * `import --manufacturer/--model`: the device facts for files that do not
 * carry them (an OATH CSV, a seed list), which some MFA servers require
 * (Entra's CSV needs both). A record whose file names another value is
 * refused for that record, as with --type/--algorithm/--digits/--period.
 */
import { UsageError } from '../core/errors.js';
import { checkArgText } from '../core/text-guard.js';
import type { ParseItem, SeedRecord } from './types.js';

export interface DeviceDefaults {
  manufacturer?: string;
  model?: string;
}

/** Checks the flags (exit 2 naming the flag); undefined where none was given. */
export function parseDeviceDefaults(flags: { manufacturer?: string; model?: string }): DeviceDefaults | undefined {
  const check = (flag: 'manufacturer' | 'model', v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!v.trim()) throw new UsageError(`--${flag} is empty`);
    return checkArgText(v.trim(), flag, `--${flag}`);
  };
  const d = { manufacturer: check('manufacturer', flags.manufacturer), model: check('model', flags.model) };
  return d.manufacturer === undefined && d.model === undefined ? undefined : d;
}

/** The record with the flags' values where the file gave none; a problem where the file gave another. */
function fillRecord(r: SeedRecord, d: DeviceDefaults): ParseItem {
  const conflict = (field: 'manufacturer' | 'model', fromFile: string | null, flag: string | undefined) =>
    flag !== undefined && fromFile && fromFile !== flag
      ? `the file gives ${field} '${fromFile}', but --${field} '${flag}' was given: --${field} is for files that do not carry it; drop it (or fix the file)`
      : null;
  const problem = conflict('manufacturer', r.manufacturer, d.manufacturer) ?? conflict('model', r.model, d.model);
  if (problem) {
    r.seed.fill(0);
    return { problem: { where: r.where, message: problem, serial: r.serial, code: 'flag-conflict' } };
  }
  return {
    record: { ...r, manufacturer: r.manufacturer || (d.manufacturer ?? ''), model: r.model ?? d.model ?? null },
  };
}

/** The parsed items with the device defaults filled in (the items unchanged without them). */
export async function* withDeviceDefaults(
  batches: AsyncIterable<ParseItem[]>,
  d: DeviceDefaults | undefined,
): AsyncIterable<ParseItem[]> {
  if (!d) return yield* batches;
  for await (const items of batches) yield items.map((i) => (i.record ? fillRecord(i.record, d) : i));
}

/**
 * The import's flags as people type them (--format, --type/--algorithm/
 * --digits/--period, --on-duplicate), checked before any file is opened:
 * a bad value is a usage error (exit 2) naming the flag.
 */
import { UsageError } from '../core/errors.js';
import { parseAlgorithm, parseTokenType, validateSpec } from '../core/spec.js';
import { IMPORT_FORMATS, type ImportFormat, type SpecDefaults } from './types.js';
import type { OnDuplicate } from './writer.js';

export function parseFormat(input: string | undefined): ImportFormat | 'auto' {
  const f = (input ?? 'auto').trim().toLowerCase();
  if (f === 'auto' || (IMPORT_FORMATS as readonly string[]).includes(f)) return f as ImportFormat | 'auto';
  throw new UsageError(`--format: unknown format '${input}'; use auto, ${IMPORT_FORMATS.join(', ')}`);
}

/** Checks `--type/--algorithm/--digits/--period` (exit 2 naming the flag); undefined where not given. */
export function parseSpecDefaults(flags: {
  type?: string;
  algorithm?: string;
  digits?: string;
  period?: string;
}): SpecDefaults {
  const check = <T>(flag: string, value: string | undefined, parse: (v: string) => T): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
  };
  return {
    type: check('type', flags.type, (v) => parseTokenType(v)),
    algorithm: check('algorithm', flags.algorithm, (v) => parseAlgorithm(v)),
    digits: check('digits', flags.digits, (v) => validateSpec({ digits: v }).digits),
    period: check('period', flags.period, (v) => validateSpec({ period: v }).period),
  };
}

export function parseOnDuplicate(input: string | undefined): OnDuplicate {
  const v = (input ?? 'fail').trim().toLowerCase();
  if (v === 'fail' || v === 'skip' || v === 'update') return v;
  throw new UsageError(`--on-duplicate: '${input}' is not fail, skip or update`);
}

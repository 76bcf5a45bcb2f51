import type { TokenPatch } from './types.js';

/** Which column each token patch field is stored in: the same in every backend's schema. */
export const TOKEN_COLUMNS: Record<Exclude<keyof TokenPatch, 'seed' | 'counterExact'>, string> = {
  manufacturer: 'manufacturer',
  model: 'model',
  kind: 'kind',
  type: 'type',
  algorithm: 'algorithm',
  digits: 'digits',
  period: 'period',
  counter: 'counter',
  state: 'state',
  previousState: 'previous_state',
  driftSteps: 'drift_steps',
  batchId: 'batch_id',
  resourceId: 'resource_id',
  deviceSerial: 'device_serial',
  profile: 'profile',
  failedAttempts: 'failed_attempts',
  locked: 'locked',
  lastUsedStep: 'last_used_step',
  attributes: 'attributes',
  t0: 't0',
  checkDigit: 'check_digit',
};

/** Largest counter kept exactly in a JavaScript number; beyond it the decimal lives in counter_big. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
export const MAX_COUNTER = (1n << 64n) - 1n;

/** The counter and counter_big column values for a counter given as a number and, optionally, its exact decimal. */
export function counterColumns(
  counter: number,
  counterExact?: string | null,
): { counter: number; counterBig: string | null } {
  if (counterExact == null) return { counter, counterBig: null };
  const big = BigInt(counterExact);
  if (big < 0n || big > MAX_COUNTER) throw new RangeError('counter out of range 0 to 2^64-1');
  return big > MAX_EXACT
    ? { counter: Number.MAX_SAFE_INTEGER, counterBig: big.toString() }
    : { counter: Number(big), counterBig: null };
}

/** The optional issue-14 fields of a token row (t0, check_digit, counter_big), only where they differ from the defaults. */
export function optionalTokenFields(r: Record<string, unknown>): {
  t0?: number;
  checkDigit?: boolean;
  counterExact?: string;
} {
  const out: { t0?: number; checkDigit?: boolean; counterExact?: string } = {};
  const t0 = r.t0 == null ? 0 : Number(r.t0);
  if (t0 !== 0) out.t0 = t0;
  if (r.check_digit === 1 || r.check_digit === true) out.checkDigit = true;
  if (r.counter_big != null) out.counterExact = String(r.counter_big);
  return out;
}

/**
 * The filters of the token and assignment listings and the SET list of a
 * token patch: the same SQL on both dialects, placeholders and the few
 * spellings of SqlText aside.
 */
import { counterColumns, TOKEN_COLUMNS } from '../columns.js';
import type { NewToken, TokenFilter, TokenPatch } from '../types.js';
import { whereOf, type Params, type SqlText } from './dialect.js';

/** The WHERE clause of a token filter, parameters appended to `p`. */
export function tokenWhere(f: TokenFilter, p: Params, d: SqlText): string {
  const parts: string[] = [];
  if (f.state) parts.push(`state = ${p.add(f.state)}`);
  if (f.states) parts.push(d.inList('state', p.add(d.listValue([...f.states]))));
  if (f.resourceId !== undefined) parts.push(`resource_id = ${p.add(f.resourceId)}`);
  if (f.batchId !== undefined) parts.push(`batch_id = ${p.add(f.batchId)}`);
  if (f.deviceSerial !== undefined) parts.push(`device_serial = ${p.add(f.deviceSerial)}`);
  if (f.serials) parts.push(d.inList('serial', p.add(d.listValue(f.serials))));
  return whereOf(parts);
}

/** The WHERE clause of an assignment filter. */
export function assignmentWhere(f: { resourceId?: number; userId?: number }, p: Params): string {
  const parts: string[] = [];
  if (f.resourceId !== undefined) parts.push(`resource_id = ${p.add(f.resourceId)}`);
  if (f.userId !== undefined) parts.push(`user_id = ${p.add(f.userId)}`);
  return whereOf(parts);
}

/** The columns a token patch sets (all but the seed, which needs the key), values encoded for the dialect. */
export function tokenPatchColumns(patch: TokenPatch, d: SqlText): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, col] of Object.entries(TOKEN_COLUMNS) as [keyof typeof TOKEN_COLUMNS, string][]) {
    if (!(k in patch)) continue;
    const v = patch[k];
    out.push([
      col,
      k === 'attributes' ? JSON.stringify(v ?? {}) : k === 'locked' || k === 'checkDigit' ? d.bool(v) : (v ?? null),
    ]);
  }
  if ('counter' in patch || 'counterExact' in patch) {
    // A counter patch sets both columns, so a stale exact decimal never outlives a new counter.
    const c = counterColumns(patch.counter ?? 0, patch.counterExact);
    const i = out.findIndex(([col]) => col === 'counter');
    if (i >= 0) out[i] = ['counter', c.counter];
    else out.push(['counter', c.counter]);
    out.push(['counter_big', c.counterBig]);
  }
  return out;
}

/**
 * The SET entry that stamps when a token's state changed: only when the patch's state differs from the row's
 * (a flash of an assigned token patches the same state). The right-hand `state` is the row's value before the update.
 */
export function stateChangedSet(patch: TokenPatch, p: Params, at: string): string | null {
  if (patch.state === undefined) return null;
  return `state_changed_at = CASE WHEN state <> ${p.add(patch.state)} THEN ${p.add(at)} ELSE state_changed_at END`;
}

/** The named columns of a record patch (users, Resources) that the patch holds, encoded. */
export function patchColumns<P extends object>(
  p: P,
  cols: [keyof P, string][],
  encode: (k: keyof P, v: unknown) => unknown = (_k, v) => v ?? null,
): [string, unknown][] {
  return cols.filter(([k]) => k in p).map(([k, col]) => [col, encode(k, p[k])]);
}

/** The tokens table's columns an insert fills, in the order of tokenInsertValues. */
export const TOKEN_INSERT_COLUMNS =
  'serial, manufacturer, model, kind, type, algorithm, digits, period, counter, sealed_seed, state, drift_steps, batch_id, resource_id, device_serial, profile, attributes, created_at, updated_at, t0, check_digit, counter_big, state_changed_at';

/** A new token's insert values in TOKEN_INSERT_COLUMNS order; `sealed` is its seed sealed already (or null). */
export function tokenInsertValues(t: NewToken, sealed: Buffer | null, at: string, d: SqlText): unknown[] {
  const counter = counterColumns(t.counter, t.counterExact);
  return [
    t.serial,
    t.manufacturer ?? '',
    t.model ?? null,
    t.kind,
    t.type,
    t.algorithm,
    t.digits,
    t.period,
    counter.counter,
    sealed,
    t.state,
    t.driftSteps ?? 0,
    t.batchId ?? null,
    t.resourceId ?? null,
    t.deviceSerial ?? null,
    t.profile ?? null,
    JSON.stringify(t.attributes ?? {}),
    at,
    at,
    t.t0 ?? 0,
    d.bool(t.checkDigit),
    counter.counterBig,
    at,
  ];
}

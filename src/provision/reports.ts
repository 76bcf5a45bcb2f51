/**
 * The station's reports: tokens counted by state, model and Resource; tokens
 * assigned but never enrolled, with their age; and each token's clock drift
 * as sync, verify, enroll and resync observed it (from their audit rows).
 */
import type { AuditRecord, Store, TokenRecord } from '../store/types.js';

export interface CountRow {
  key: string;
  count: number;
}

export interface NotEnrolledRow {
  serial: string;
  user: string;
  resource: string;
  assignedAt: string;
  ageDays: number;
}

export interface DriftRow {
  serial: string;
  model: string;
  /** The token's clock minus the host's, in seconds, as last observed. */
  driftSeconds: number;
  /** What observed it: sync, verify, enroll or resync. */
  seenBy: string;
  at: string;
  observations: number;
  /** A sync set the clock right after it observed the drift: the offset it left. */
  correctedTo: number | null;
}

export interface ModelDriftRow {
  model: string;
  tokens: number;
  meanSeconds: number;
  minSeconds: number;
  maxSeconds: number;
}

/** The audit actions whose rows carry an observed drift. */
export const DRIFT_ACTIONS = ['token.sync', 'token.verify', 'token.enroll', 'token.resync'] as const;

function countBy<T>(items: T[], key: (t: T) => string): CountRow[] {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m]
    .map(([k, count]) => ({ key: k, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

export async function tokenCounts(
  store: Store,
): Promise<{ byState: CountRow[]; byModel: CountRow[]; byResource: CountRow[] }> {
  const rows = await store.tokens.inventory({});
  return {
    byState: countBy(rows, (r) => r.token.state),
    byModel: countBy(rows, (r) => r.token.model ?? '(no model)'),
    byResource: countBy(rows, (r) => r.resource ?? '(no Resource)'),
  };
}

/** Assignments whose token was never enrolled, oldest first. */
export async function assignedNotEnrolled(store: Store, now = new Date()): Promise<NotEnrolledRow[]> {
  const out: NotEnrolledRow[] = [];
  for (const a of await store.assignments.list()) {
    if (a.enrolledAt !== null) continue;
    const [t, u, r] = await Promise.all([
      store.tokens.get(a.tokenId),
      store.users.get(a.userId),
      store.resources.get(a.resourceId),
    ]);
    if (!t || !u || !r) continue;
    const ageDays = Math.floor((now.getTime() - Date.parse(a.createdAt)) / 86_400_000);
    out.push({ serial: t.serial, user: u.login, resource: r.name, assignedAt: a.createdAt, ageDays });
  }
  return out.sort((a, b) => a.assignedAt.localeCompare(b.assignedAt));
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The drift one audit row observed, in seconds, or null when it observed none (a failed verify, an HOTP token). */
export function observedDrift(row: AuditRecord, token: TokenRecord | undefined): number | null {
  const d = row.details;
  const fromSteps = () => (token && token.type === 'totp' ? (num(d.driftSteps) ?? NaN) * token.period : null);
  let s: number | null;
  if (row.action === 'token.sync') s = num(d.offsetBefore);
  else if (row.action === 'token.verify') s = d.ok === false ? null : (num(d.tokenClockOffset) ?? fromSteps());
  else s = num(d.driftSeconds) ?? fromSteps();
  return s === null || Number.isNaN(s) ? null : s;
}

/** Each token's last observed drift, and per model the spread of those. */
export async function driftReport(store: Store): Promise<{ tokens: DriftRow[]; models: ModelDriftRow[] }> {
  const rows = (await Promise.all(DRIFT_ACTIONS.map((action) => store.audit.list({ action })))).flat();
  rows.sort((a, b) => a.seq - b.seq);
  const tokens = new Map<string, TokenRecord | undefined>();
  const bySerial = new Map<string, DriftRow>();
  for (const row of rows) {
    const serial = row.subject.replace(/^token:/, '');
    if (!tokens.has(serial)) tokens.set(serial, (await store.tokens.findBySerial(serial))[0]);
    const t = tokens.get(serial);
    const seconds = observedDrift(row, t);
    if (seconds === null) continue;
    const model = t?.model ?? (typeof row.details.model === 'string' ? row.details.model : '(no model)');
    const prev = bySerial.get(serial);
    bySerial.set(serial, {
      serial,
      model,
      driftSeconds: seconds,
      seenBy: row.action.replace(/^token\./, ''),
      at: row.at,
      observations: (prev?.observations ?? 0) + 1,
      correctedTo: row.action === 'token.sync' ? num(row.details.offsetAfter) : null,
    });
  }
  const list = [...bySerial.values()].sort(
    (a, b) => a.model.localeCompare(b.model) || a.serial.localeCompare(b.serial),
  );
  return { tokens: list, models: modelDrift(list) };
}

function modelDrift(list: DriftRow[]): ModelDriftRow[] {
  const byModel = new Map<string, number[]>();
  for (const r of list) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r.driftSeconds]);
  return [...byModel].map(([model, s]) => ({
    model,
    tokens: s.length,
    meanSeconds: Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 10) / 10,
    minSeconds: Math.min(...s),
    maxSeconds: Math.max(...s),
  }));
}

/** Rows as CSV: a header from the keys of the first row, each value quoted when it must be. */
export function toCsv(rows: object[], columns?: string[]): string {
  const cols = columns ?? Object.keys(rows[0] ?? {});
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string);
    // A leading = + - @ would run as a formula in a spreadsheet: quoted with a ' first.
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell((r as Record<string, unknown>)[c])).join(','))]
    .map((l) => `${l}\r\n`)
    .join('');
}

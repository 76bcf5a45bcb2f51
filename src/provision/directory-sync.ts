/**
 * `directory sync`: read every linked group first (paged; any error, time-out
 * or cut-short result stops here with nothing written), work out each
 * Resource's changes, refuse a sync that would take away more than the
 * threshold of a Resource's users unless forced, then write it all in one
 * transaction. An outage can never unassign anyone.
 */
import { PolicyError } from '../core/errors.js';
import { withConnection } from '../directory/client.js';
import { configOf } from '../directory/config.js';
import { groupMembers, type DirectoryPerson } from '../directory/people.js';
import type { DirectoryRecord, Store } from '../store/types.js';
import { applyPlan, reportOf, type ResourceReport } from './directory-apply.js';
import { planResource, readStoreSide, type ResourcePlan } from './directory-plan.js';
import { findDirectory } from './directories.js';

/** The share of a Resource's directory users one sync may take away without --force. */
export const DEFAULT_REMOVAL_THRESHOLD = 0.1;

export interface SyncOptions {
  dryRun?: boolean;
  force?: boolean;
  threshold?: number;
  /** Hears the people read so far (a progress line on a terminal). */
  onProgress?: (directory: string, group: string, count: number) => void;
}

export interface SyncReport {
  directory: string;
  dryRun: boolean;
  resources: ResourceReport[];
}

/** Every linked group's members, read before anything is written. */
async function readGroups(
  store: Store,
  d: DirectoryRecord,
  groups: string[],
  onProgress?: SyncOptions['onProgress'],
): Promise<Map<string, DirectoryPerson[]>> {
  const password = await store.directories.bindPassword(d);
  return withConnection(d.name, configOf(d.config), async (conn) => {
    await conn.bindService(password);
    const out = new Map<string, DirectoryPerson[]>();
    for (const g of groups) if (!out.has(g)) out.set(g, await groupMembers(conn, g, (n) => onProgress?.(d.name, g, n)));
    return out;
  });
}

/** The refusal of a sync that would take away too many of a Resource's users, naming the counts. */
function guard(plans: ResourcePlan[], threshold: number, force: boolean): void {
  const over = plans.filter((p) => {
    const removed = p.leave.length + p.disable.length;
    return removed > 0 && removed > threshold * p.current;
  });
  if (over.length === 0 || force) return;
  const counts = over.map(
    (p) =>
      `${p.resource.name}: ${p.leave.length} left and ${p.disable.length} disabled of ${p.current} users (${Math.round(((p.leave.length + p.disable.length) / Math.max(p.current, 1)) * 100)}%)`,
  );
  throw new PolicyError(
    `directory sync refused: it would take away more than ${Math.round(threshold * 100)}% of a Resource's users (${counts.join('; ')}). Nothing was changed. If this is right, run it again with --force`,
    { code: 'sync-removal-guard' },
  );
}

export async function syncDirectory(store: Store, name: string, opts: SyncOptions = {}): Promise<SyncReport> {
  const d = await findDirectory(store, name);
  const links = await store.directories.links(d.id);
  const members = await readGroups(
    store,
    d,
    links.map((l) => l.groupDn),
    opts.onProgress,
  );
  const side = await readStoreSide(store, d.id);
  const plans: ResourcePlan[] = [];
  for (const l of links) {
    const r = (await store.resources.get(l.resourceId))!;
    plans.push(await planResource(store, side, r, l, members.get(l.groupDn)!));
  }
  guard(plans, opts.threshold ?? DEFAULT_REMOVAL_THRESHOLD, Boolean(opts.force));
  if (opts.dryRun) return { directory: d.name, dryRun: true, resources: plans.map(reportOf) };
  const resources = await store.transaction(async (tx) => {
    const out: ResourceReport[] = [];
    for (const p of plans) out.push(await applyPlan(tx, p, d.name));
    return out;
  });
  return { directory: d.name, dryRun: false, resources };
}

/** Every directory, or the one named. */
export async function syncDirectories(
  store: Store,
  name: string | undefined,
  opts: SyncOptions = {},
): Promise<SyncReport[]> {
  const names = name !== undefined ? [name] : (await store.directories.list()).map((d) => d.name);
  const out: SyncReport[] = [];
  for (const n of names) out.push(await syncDirectory(store, n, opts));
  return out;
}

/**
 * Changing a Resource after it was created: its Self-Service address and
 * limits (`resource set`), and a whole set of rules at once (the station's
 * Save), which is the CLI's allow and deny for what was switched on and off.
 */
import { UsageError } from '../core/errors.js';
import { ENROLL_TOKEN_TYPES, type ResourceRecord, type Store } from '../store/types.js';
import {
  RESOURCE_ACTIONS,
  checkLimit,
  checkUrl,
  findResource,
  parseList,
  setResourcePermissions,
  viewResource,
  type ResourceView,
} from './resources.js';

export interface ResourceLimits {
  /** The Self-Service address; an empty string clears it. */
  url?: string;
  lockAfter?: number;
  window?: number;
  syncWindow?: number;
}

type LimitKey = 'url' | 'lockAfter' | 'window' | 'syncWindow';
const LIMIT_KEYS: readonly LimitKey[] = ['url', 'lockAfter', 'window', 'syncWindow'];

/** The limits as they would be stored: checked the way `resource create` checks them. */
function checkedLimits(input: ResourceLimits): Partial<Pick<ResourceRecord, LimitKey>> {
  const out: Partial<Pick<ResourceRecord, LimitKey>> = {};
  if (input.url !== undefined) out.url = input.url.trim() ? checkUrl(input.url.trim()) : null;
  if (input.lockAfter !== undefined) out.lockAfter = checkLimit(input.lockAfter, '--lock-after', 100);
  if (input.window !== undefined) out.window = checkLimit(input.window, '--window', 100);
  if (input.syncWindow !== undefined) out.syncWindow = checkLimit(input.syncWindow, '--sync-window', 100_000);
  return out;
}

/** Sets a Resource's address and limits; one audit row names each value that changed, from and to. */
export async function setResourceLimits(
  store: Store,
  name: string,
  input: ResourceLimits,
): Promise<{ resource: ResourceRecord; changed: Record<string, { from: unknown; to: unknown }> }> {
  const wanted = checkedLimits(input);
  if (Object.keys(wanted).length === 0)
    throw new UsageError('name something to set: --url, --lock-after, --window or --sync-window');
  return store.transaction(async (tx) => {
    const r = await findResource(tx, name);
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const k of LIMIT_KEYS)
      if (wanted[k] !== undefined && wanted[k] !== r[k]) changed[k] = { from: r[k], to: wanted[k] };
    if (Object.keys(changed).length === 0) return { resource: r, changed };
    const next = await tx.resources.update(r.id, wanted);
    await tx.audit.append({ action: 'resource.update', subject: `resource:${r.name}`, details: { changed } });
    return { resource: next, changed };
  });
}

export interface ResourceRules extends ResourceLimits {
  /** Exactly the actions and token types to allow: the rest is denied. */
  actions: string[];
  tokenTypes: string[];
}

export interface SaveResult {
  resource: ResourceView;
  /** One line per change, for the page to show. */
  changes: string[];
}

/** Brings a Resource to exactly these rules: allow what was switched on, deny what was switched off, set the limits. */
export async function saveResourceRules(store: Store, name: string, rules: ResourceRules): Promise<SaveResult> {
  const actions = parseList(rules.actions, RESOURCE_ACTIONS, 'action');
  const tokenTypes = parseList(rules.tokenTypes, ENROLL_TOKEN_TYPES, 'token type');
  checkedLimits(rules);
  const before = await findResource(store, name);
  const on = actions.filter((a) => !before.actions.includes(a));
  const off = before.actions.filter((a) => !actions.includes(a));
  const typesOn = tokenTypes.filter((t) => !before.tokenTypes.includes(t));
  const typesOff = before.tokenTypes.filter((t) => !tokenTypes.includes(t));
  const changes: string[] = [];
  if (on.length || typesOn.length) {
    await setResourcePermissions(store, name, { allow: true, actions: on, tokenTypes: typesOn });
    if (on.length) changes.push(`allowed ${on.join(', ')}`);
    if (typesOn.length) changes.push(`token types allowed: ${typesOn.join(', ')}`);
  }
  if (off.length || typesOff.length) {
    await setResourcePermissions(store, name, { allow: false, actions: off, tokenTypes: typesOff });
    if (off.length) changes.push(`denied ${off.join(', ')}`);
    if (typesOff.length) changes.push(`token types denied: ${typesOff.join(', ')}`);
  }
  const limits: ResourceLimits = { url: rules.url, lockAfter: rules.lockAfter, window: rules.window };
  if (rules.syncWindow !== undefined) limits.syncWindow = rules.syncWindow;
  if (LIMIT_KEYS.some((k) => limits[k] !== undefined)) {
    const { changed } = await setResourceLimits(store, name, limits);
    for (const [k, v] of Object.entries(changed))
      changes.push(`${k}: ${String(v.from ?? 'none')} → ${String(v.to ?? 'none')}`);
  }
  return { resource: await viewResource(store, await findResource(store, name)), changes };
}

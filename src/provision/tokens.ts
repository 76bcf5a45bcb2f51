/**
 * Token services: register a token by hand, find, show, compute its code,
 * and the plain life-cycle moves. The CLI and the web station call these.
 */
import { encodeBase32, decodeBase32 } from '../core/codecs.js';
import { DataError, NotFoundError, UsageError } from '../core/errors.js';
import { dpwSecondsLeft } from '../core/dpw.js';
import { generateCode } from '../core/otp.js';
import { checkArgText } from '../core/text-guard.js';
import { parseKind, validateSeedLength, validateSpec, type TokenKind } from '../core/spec.js';
import { parseStateList, type TokenState } from '../core/states.js';
import type { InventoryFilter, InventoryRow, Repos, Store, TokenRecord } from '../store/types.js';

export interface TokenView {
  serial: string;
  manufacturer: string;
  model: string | null;
  kind: TokenKind;
  type: TokenRecord['type'];
  algorithm: TokenRecord['algorithm'];
  digits: number;
  period: number;
  counter: number;
  state: TokenState;
  driftSteps: number;
  resource: string | null;
  user: string | null;
  /** When the token was assigned to `user` and when they enrolled it; null when not (yet). */
  assignedAt: string | null;
  enrolledAt: string | null;
  /** When the token last moved from one state to another (or was added). */
  lastStateChangeAt: string;
  deviceSerial?: string;
  profile?: number;
  locked?: boolean;
  /** RFC 6238 T0 (Unix seconds), when not 0. */
  t0?: number;
  /** Codes end in a Luhn check digit (one more than `digits`). */
  checkDigit?: boolean;
  /** The exact counter in decimal when it is beyond 2^53-1. */
  counterExact?: string;
  /** base32, only when the caller asked for it. */
  secret?: string;
}

/** Finds the one token with a serial; several manufacturers need --manufacturer. */
export async function findToken(repos: Repos, serial: string, manufacturer?: string): Promise<TokenRecord> {
  if (manufacturer !== undefined) {
    const t = await repos.tokens.findOne(manufacturer, serial);
    if (!t) throw new NotFoundError(`no token with serial ${serial} from manufacturer '${manufacturer}'`);
    return t;
  }
  const found = await repos.tokens.findBySerial(serial);
  if (found.length === 0) throw new NotFoundError(`no token with serial ${serial} in the store`);
  if (found.length > 1) {
    throw new UsageError(
      `serial ${serial} belongs to ${found.length} tokens (${found.map((t) => t.manufacturer || 'no manufacturer').join(', ')}): add --manufacturer`,
    );
  }
  return found[0]!;
}

export async function viewToken(repos: Repos, t: TokenRecord, opts: { showSecret?: boolean } = {}): Promise<TokenView> {
  const assignment = await repos.assignments.byToken(t.id);
  const resourceId = assignment?.resourceId ?? t.resourceId;
  const resource = resourceId != null ? await repos.resources.get(resourceId) : null;
  const user = assignment ? await repos.users.get(assignment.userId) : null;
  const view = tokenView(t, {
    resource: resource?.name ?? null,
    user: user?.login ?? null,
    assignedAt: assignment?.createdAt ?? null,
    enrolledAt: assignment?.enrolledAt ?? null,
  });
  if (opts.showSecret) view.secret = t.hasSeed ? encodeBase32(await repos.tokens.openSeed(t)) : undefined;
  return view;
}

/** The view of a token whose Resource, user and assignment times are known (the inventory query returns them with the row). */
export function tokenView(t: TokenRecord, held: Omit<InventoryRow, 'token'>): TokenView {
  const view: TokenView = {
    serial: t.serial,
    manufacturer: t.manufacturer,
    model: t.model,
    kind: t.kind,
    type: t.type,
    algorithm: t.algorithm,
    digits: t.digits,
    period: t.period,
    counter: t.counter,
    state: t.state,
    driftSteps: t.driftSteps,
    resource: held.resource,
    user: held.user,
    assignedAt: held.assignedAt,
    enrolledAt: held.enrolledAt,
    lastStateChangeAt: t.stateChangedAt,
  };
  if (t.deviceSerial) view.deviceSerial = t.deviceSerial;
  if (t.profile != null) view.profile = t.profile;
  if (t.locked) view.locked = true;
  if (t.t0) view.t0 = t.t0;
  if (t.checkDigit) view.checkDigit = true;
  if (t.counterExact !== undefined) view.counterExact = t.counterExact;
  return view;
}

export interface AddTokenInput {
  serial: string;
  /** base32 */
  secret: string;
  kind?: string;
  type?: string;
  algorithm?: string;
  digits?: string | number;
  period?: string | number;
  counter?: string | number;
  manufacturer?: string;
  model?: string;
  resource?: string;
}

/** Registers one token typed in by hand: a classic token from its seed sheet, or one burned elsewhere. */
export async function addToken(store: Store, input: AddTokenInput): Promise<TokenRecord> {
  const serial = checkArgText(input.serial.trim(), 'serial', 'the serial');
  if (!serial) throw new UsageError('the serial is empty');
  checkArgText(input.manufacturer ?? '', 'manufacturer', '--manufacturer');
  checkArgText(input.model ?? '', 'model', '--model');
  const seed = decodeBase32(input.secret, 'the secret');
  validateSeedLength(seed);
  const spec = validateSpec({
    type: input.type,
    algorithm: input.algorithm,
    digits: input.digits,
    period: input.period,
    counter: input.counter,
  });
  // A day password's key is the text of a DPW file, not base32 bytes, and no device is programmed with one.
  if (spec.type === 'dpw')
    throw new UsageError('a day password (dpw) token comes from its DPW file: tokensmith import <file> --format dpw');
  const kind = input.kind ? parseKind(input.kind) : 'classic';
  return store.transaction(async (tx) => {
    let resourceId: number | null = null;
    if (input.resource) {
      const r = await tx.resources.findByName(input.resource);
      if (!r)
        throw new NotFoundError(
          `no resource named '${input.resource}' (create it with: tokensmith resource create ${input.resource})`,
        );
      resourceId = r.id;
    }
    const manufacturer = input.manufacturer?.trim() ?? '';
    if (await tx.tokens.findOne(manufacturer, serial)) {
      throw new DataError(`token ${serial} is already in the store`, { code: 'duplicate-serial', where: serial });
    }
    const token = await tx.tokens.insert({
      serial,
      manufacturer,
      model: input.model ?? null,
      kind,
      ...spec,
      // A seed written by someone else: a programmable token arrives programmed, a classic one in stock.
      state: kind === 'programmable' ? 'programmed' : 'in_stock',
      seed,
      resourceId,
    });
    await tx.audit.append({
      action: 'token.add',
      subject: `token:${serial}`,
      details: {
        manufacturer,
        model: token.model,
        kind,
        type: spec.type,
        algorithm: spec.algorithm,
        digits: spec.digits,
        period: spec.period,
        counter: spec.counter,
        resource: input.resource ?? null,
        state: token.state,
      },
    });
    return token;
  });
}

/** The code a token shows at a time (TOTP, with its known drift) or at its next counter (HOTP). */
export async function tokenCode(
  store: Store,
  serial: string,
  opts: { at?: Date; manufacturer?: string } = {},
): Promise<{ code: string; token: TokenRecord; at: Date; validFor?: number }> {
  const token = await findToken(store, serial, opts.manufacturer);
  const seed = await store.tokens.openSeed(token);
  const at = opts.at ?? new Date();
  const code = generateCode(seed, token, { at, driftSteps: token.driftSteps });
  seed.fill(0);
  // Steps count from T0 (RFC 6238): the seconds left in this one.
  const intoStep = (((Math.floor(at.getTime() / 1000) - (token.t0 ?? 0)) % token.period) + token.period) % token.period;
  const validFor =
    token.type === 'totp' ? token.period - intoStep : token.type === 'dpw' ? dpwSecondsLeft(at) : undefined;
  return { code, token, at, validFor };
}

export function parseAtTime(input: string): Date {
  const s = input.trim();
  const d = /^\d+$/.test(s) ? new Date(Number(s) * 1000) : new Date(s);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--at: '${input}' is not an ISO time (e.g. 2026-01-31T12:00:00Z) or Unix seconds`);
  return d;
}

export interface TokenListFilter {
  state?: string;
  resource?: string;
  model?: string;
  user?: string;
  search?: string;
  /** A date or ISO time: only tokens assigned before it. */
  assignedBefore?: string;
}

/** The filter checked and in the store's terms. */
function inventoryFilter(filter: TokenListFilter): InventoryFilter {
  const { state, assignedBefore, ...rest } = filter;
  return {
    ...rest,
    // One state or a comma list (`assigned,enrolled`), as everywhere --state is taken.
    states: parseStateList(state || undefined),
    ...(assignedBefore !== undefined ? { assignedBefore: parseDateOption(assignedBefore, '--assigned-before') } : {}),
  };
}

/** A date (2026-01-31, midnight UTC) or an ISO time as the ISO 8601 UTC text the store compares with. */
export function parseDateOption(input: string, flag: string): string {
  const s = input.trim();
  const d = /^\d{4}-\d{2}-\d{2}$/.test(s)
    ? new Date(`${s}T00:00:00Z`)
    : /^\d{4}-\d{2}-\d{2}T/.test(s)
      ? new Date(s)
      : null;
  if (!d || Number.isNaN(d.getTime()))
    throw new UsageError(`${flag}: '${input}' is not a date (2026-01-31) or an ISO time (2026-01-31T12:00:00Z)`);
  return d.toISOString();
}

/** The inventory, filtered in SQL in one statement (state, Resource, model, user, search text). */
export async function listTokens(store: Store, filter: TokenListFilter = {}): Promise<TokenView[]> {
  const rows = await store.tokens.inventory(inventoryFilter(filter));
  if (rows.length === 0) await checkResourceNamed(store, filter.resource);
  return rows.map((r) => tokenView(r.token, r));
}

/** Only an empty answer needs the second look: was the Resource named at all? (An empty list would hide a typo.) */
async function checkResourceNamed(store: Store, resource: string | undefined): Promise<void> {
  if (resource && !(await store.resources.findByName(resource)))
    throw new NotFoundError(`no resource named '${resource}'`);
}

/** The inventory as a stream of views, a page of tokens at a time: `tokens list` of any size in flat memory. */
export async function* iterateTokens(store: Store, filter: TokenListFilter = {}): AsyncIterable<TokenView> {
  let none = true;
  for await (const r of store.tokens.iterateInventory(inventoryFilter(filter))) {
    none = false;
    yield tokenView(r.token, r);
  }
  if (none) await checkResourceNamed(store, filter.resource);
}

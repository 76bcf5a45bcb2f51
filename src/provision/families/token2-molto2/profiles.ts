/**
 * Molto2 multi-profile services: flash one profile, list them, sync the
 * clocks, erase one. In the store every profile is its own token (serial
 * `<device serial>-<nn>`, with device_serial and profile set), so each can go
 * to a different user. The store is written only once the device confirmed.
 */
import { decodeBase32 } from '../../../core/codecs.js';
import { DataError, PolicyError, TokensmithError, UsageError } from '../../../core/errors.js';
import { nextState } from '../../../core/states.js';
import type { Repos, Store, TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import {
  Molto2Driver,
  Molto2WriteError,
  type Molto2Settings,
  type ProfileView,
} from '../../../../drivers/token2-molto2/driver.js';
import {
  DISPLAY_TIMEOUTS,
  FACTORY_CUSTOMER_KEY,
  MAX_SEED_BYTES,
  MAX_TITLE_BYTES,
  isDigits,
  parseCustomerKey,
  type DisplayTimeoutSeconds,
} from '../../../../drivers/token2-molto2/protocol.js';
import { assignWithin, checkAssignRules } from '../../assign.js';
import type { TokenFlasher } from '../../flash-batch.js';
import { freshSeed } from '../token2-nfc/flash.js';
import { findResource } from '../../resources.js';
import { viewToken, type TokenView } from '../../tokens.js';
import { findUser } from '../../users.js';

export const MOLTO2_MANUFACTURER = 'Token2';

/** The store serial of one profile: `2310000001-03`. */
export function profileSerial(deviceSerial: string, profile: number): string {
  return `${deviceSerial}-${String(profile).padStart(2, '0')}`;
}

export interface Molto2Common {
  /** Raw --customer-key (hex or ASCII); the factory key when absent. Never logged. */
  customerKey?: string;
  now?: () => number;
  onStep?: (s: string) => void;
}

export interface ProfileFlashInput extends Molto2Common {
  profile: number;
  seed?: Uint8Array;
  settings: Molto2Settings;
  title?: string;
  force?: boolean;
  resource?: string;
  user?: string;
  batchId?: number;
  /** Asked once the device is identified, before anything is written; false stops with nothing written. */
  confirm?: (deviceSerial: string, existing: TokenRecord | null) => Promise<boolean>;
}

function driverFor(transport: ApduTransport, c: Molto2Common): Molto2Driver {
  let key: Uint8Array = FACTORY_CUSTOMER_KEY;
  if (c.customerKey !== undefined) {
    try {
      key = parseCustomerKey(c.customerKey);
    } catch (e) {
      throw new UsageError(`--customer-key: ${(e as Error).message}`, 'bad-customer-key');
    }
  }
  return new Molto2Driver(transport, { customerKey: key, now: c.now, onStep: c.onStep });
}

export function parseProfileNumber(raw: string | number | undefined, flag = '--profile'): number {
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isInteger(n) || n < 0 || n > 99)
    throw new UsageError(
      `${flag}: give a profile number from 0 to 99 (0 to 49 on a Molto2), not '${raw ?? ''}'`,
      'bad-profile',
    );
  return n;
}

/** CLI/web values -> a checked ProfileFlashInput (usage errors name the flag). */
export function parseProfileFlashInput(raw: {
  profile?: string;
  seed?: string;
  algorithm?: string;
  digits?: string;
  period?: string;
  displayTimeout?: string;
  title?: string;
  customerKey?: string;
  force?: boolean;
  resource?: string;
  user?: string;
}): ProfileFlashInput {
  const profile = parseProfileNumber(raw.profile);
  const algorithm = (raw.algorithm ?? 'sha1').toLowerCase().replace('-', '');
  if (algorithm !== 'sha1' && algorithm !== 'sha256')
    throw new UsageError(`--algorithm: the Molto2 does sha1 or sha256, not '${raw.algorithm}'`, 'bad-algorithm');
  const digits = Number(raw.digits ?? 6);
  if (!isDigits(digits))
    throw new UsageError(`--digits: the Molto2 shows 4, 6, 8 or 10 digits, not '${raw.digits}'`, 'bad-digits');
  const period = Number(raw.period ?? 30);
  if (period !== 30 && period !== 60)
    throw new UsageError(`--period: the Molto2 steps 30 or 60 seconds, not '${raw.period}'`, 'bad-period');
  const displayTimeout = Number(raw.displayTimeout ?? 30);
  if (!(DISPLAY_TIMEOUTS as readonly number[]).includes(displayTimeout))
    throw new UsageError(
      `--display-timeout: use 15, 30, 60 or 120 seconds, not '${raw.displayTimeout}'`,
      'bad-display-timeout',
    );
  if (
    raw.title !== undefined &&
    (Buffer.byteLength(raw.title, 'utf8') < 1 || Buffer.byteLength(raw.title, 'utf8') > MAX_TITLE_BYTES)
  ) {
    throw new UsageError(
      `--title: 1 to ${MAX_TITLE_BYTES} bytes (UTF-8), '${raw.title}' is ${Buffer.byteLength(raw.title, 'utf8')}`,
      'bad-title',
    );
  }
  if (raw.user && !raw.resource)
    throw new UsageError(
      '--user needs --resource: a token is assigned to a user within a Resource',
      'user-needs-resource',
    );
  let seed: Uint8Array | undefined;
  if (raw.seed !== undefined) {
    seed = decodeBase32(raw.seed, '--seed');
    if (seed.length > MAX_SEED_BYTES)
      throw new DataError(`--seed is ${seed.length} bytes; a Molto2 profile takes 1 to ${MAX_SEED_BYTES}`, {
        code: 'bad-seed-length',
      });
    if (seed.every((b) => b === 0))
      throw new DataError(
        '--seed is all zeros, which the Molto2 takes as "clear the profile"; use `tokensmith device erase --profile n` for that',
        { code: 'bad-seed' },
      );
  }
  return {
    profile,
    seed,
    settings: { algorithm, digits, period, displayTimeout: displayTimeout as DisplayTimeoutSeconds },
    title: raw.title,
    customerKey: raw.customerKey,
    force: raw.force,
    resource: raw.resource,
    user: raw.user,
  };
}

export interface ProfileFlashResult {
  serial: string;
  deviceSerial: string;
  profile: number;
  model: 'token2-molto2';
  title: string;
  algorithm: string;
  digits: number;
  period: number;
  displayTimeout: number;
  overwrote: boolean;
  clockOffsetBefore: number;
  clockOffsetAfter: number;
  batch: number;
  commands: number;
  reader: string;
  token: TokenView;
}

type ProfileWrite = Awaited<ReturnType<Molto2Driver['writeProfile']>>;

/** Before the device is touched: the user must belong to the Resource. */
async function checkUserInResource(store: Store, input: ProfileFlashInput): Promise<void> {
  if (!input.resource) return;
  const r = await findResource(store, input.resource);
  if (input.user) {
    const u = await findUser(store, input.user);
    if (!(await store.users.isInResource(u.id, r.id)))
      throw new PolicyError(
        `refused: user '${u.login}' is not a user of Resource '${r.name}'; add them first, nothing was written`,
        { code: 'user-not-in-resource' },
      );
  }
}

/** Once the device is identified, before anything is written: the store's token for that profile, the assign rules, the operator's confirmation. */
async function checkBeforeWrite(store: Store, input: ProfileFlashInput, deviceSerial: string): Promise<void> {
  const existing = await store.tokens.findOne(MOLTO2_MANUFACTURER, profileSerial(deviceSerial, input.profile));
  if (existing?.hasSeed && !input.force) {
    throw new PolicyError(
      `refused: profile ${input.profile} of ${deviceSerial} is in the store with a seed (state ${existing.state}); add --force to overwrite it; nothing was written`,
      {
        code: 'profile-has-seed',
        where: existing.serial,
      },
    );
  }
  if (existing) nextState(existing.state, 'flash');
  if (input.user && existing)
    await checkAssignRules(
      store,
      existing,
      await findUser(store, input.user),
      await findResource(store, input.resource!),
    );
  if (input.confirm && !(await input.confirm(deviceSerial, existing)))
    throw new UsageError(
      `flash of profile ${input.profile} of ${deviceSerial} cancelled; nothing was written`,
      'cancelled',
    );
}

/** The profile's token, updated or inserted (inside the registration transaction). */
async function saveProfileToken(
  tx: Repos,
  input: ProfileFlashInput,
  out: ProfileWrite,
  row: { seed: Uint8Array; batchId: number; resourceId?: number; prev: TokenRecord | null },
): Promise<TokenRecord> {
  const { seed, batchId, resourceId, prev } = row;
  const serial = profileSerial(out.info.serial, input.profile);
  const attributes = {
    ...(prev?.attributes ?? {}),
    title: out.after.title,
    displayTimeout: input.settings.displayTimeout,
    flashedAt: new Date(input.now?.() ?? Date.now()).toISOString(),
  };
  const fields = {
    model: 'Molto2',
    kind: 'programmable' as const,
    type: 'totp' as const,
    algorithm: input.settings.algorithm,
    digits: input.settings.digits,
    period: input.settings.period,
  };
  const reset = { counter: 0, driftSteps: 0, batchId, seed, attributes };
  const moved = resourceId !== undefined ? { resourceId } : {};
  if (prev)
    return tx.tokens.update(prev.id, {
      ...fields,
      ...reset,
      state: nextState(prev.state, 'flash'),
      failedAttempts: 0,
      locked: false,
      lastUsedStep: null,
      ...moved,
    });
  const placed = { deviceSerial: out.info.serial, profile: input.profile, resourceId: resourceId ?? null };
  return tx.tokens.insert({
    serial,
    manufacturer: MOLTO2_MANUFACTURER,
    ...fields,
    ...reset,
    state: nextState('in_stock', 'flash'),
    ...placed,
  });
}

/** After the device confirmed: batch, token, audit row and assignment in one transaction; the token comes from its return value. */
function registerFlash(
  store: Store,
  transport: ApduTransport,
  input: ProfileFlashInput,
  seed: Uint8Array,
  out: ProfileWrite,
): Promise<TokenRecord> {
  const serial = profileSerial(out.info.serial, input.profile);
  return store.transaction(async (tx) => {
    const batchId =
      input.batchId ??
      (
        await tx.batches.create({
          kind: 'flash',
          sourceName: transport.readerName,
          format: 'token2-molto2',
          operator: store.operator,
        })
      ).id;
    const resourceId = input.resource ? (await findResource(tx, input.resource)).id : undefined;
    const prev = await tx.tokens.findOne(MOLTO2_MANUFACTURER, serial);
    let t = await saveProfileToken(tx, input, out, { seed, batchId, resourceId, prev });
    await tx.audit.append({
      action: 'token.flash',
      subject: `token:${serial}`,
      details: {
        model: 'token2-molto2',
        deviceSerial: out.info.serial,
        profile: input.profile,
        reader: transport.readerName,
        algorithm: input.settings.algorithm,
        digits: input.settings.digits,
        period: input.settings.period,
        displayTimeout: input.settings.displayTimeout,
        seedBytes: seed.length,
        overwrote: out.overwrote,
        batch: batchId,
        from: prev?.state ?? null,
        to: t.state,
      },
    });
    if (input.batchId === undefined) await tx.batches.finish(batchId, { imported: 1, skipped: 0, failed: 0 }, 'done');
    if (input.user)
      t = (
        await assignWithin(tx, {
          serial,
          manufacturer: MOLTO2_MANUFACTURER,
          login: input.user,
          resource: input.resource!,
          via: 'flash',
        })
      ).token;
    return t;
  });
}

async function flashResult(
  store: Store,
  transport: ApduTransport,
  input: ProfileFlashInput,
  out: ProfileWrite,
  token: TokenRecord,
): Promise<ProfileFlashResult> {
  return {
    serial: profileSerial(out.info.serial, input.profile),
    deviceSerial: out.info.serial,
    profile: input.profile,
    model: 'token2-molto2',
    title: out.after.title,
    algorithm: input.settings.algorithm,
    digits: input.settings.digits,
    period: input.settings.period,
    displayTimeout: input.settings.displayTimeout,
    overwrote: out.overwrote,
    clockOffsetBefore: out.before.clockOffset,
    clockOffsetAfter: out.after.clockOffset,
    batch: token.batchId!,
    commands: out.commands,
    reader: transport.readerName,
    token: await viewToken(store, token),
  };
}

/** A device error (exit code 3) once the device was identified leaves a token.flash-failed audit row. */
async function auditFlashFailure(
  store: Store,
  transport: ApduTransport,
  input: ProfileFlashInput,
  deviceSerial: string | null,
  e: unknown,
): Promise<void> {
  if (!(e instanceof TokensmithError && e.exitCode === 3 && deviceSerial)) return;
  const w = e instanceof Molto2WriteError ? e : null;
  await store.audit.append({
    action: 'token.flash-failed',
    subject: `token:${profileSerial(deviceSerial, input.profile)}`,
    details: {
      model: 'token2-molto2',
      reader: transport.readerName,
      error: e.code,
      step: w?.step ?? null,
      written: w?.written ?? [],
      triesLeft: (e as { triesLeft?: number }).triesLeft ?? null,
    },
  });
}

export async function flashProfile(
  store: Store,
  transport: ApduTransport,
  input: ProfileFlashInput,
): Promise<ProfileFlashResult> {
  await checkUserInResource(store, input);
  const seed = input.seed ? Uint8Array.from(input.seed) : freshSeed(input.settings.algorithm);
  const driver = driverFor(transport, input);
  let deviceSerial: string | null = null;
  try {
    const out = await driver.writeProfile(input.profile, seed, input.settings, {
      title: input.title,
      force: input.force,
      beforeWrite: async (info) => {
        deviceSerial = info.serial;
        await checkBeforeWrite(store, input, info.serial);
      },
    });
    const token = await registerFlash(store, transport, input, seed, out);
    return await flashResult(store, transport, input, out, token);
  } catch (e) {
    await auditFlashFailure(store, transport, input, deviceSerial, e);
    throw e;
  } finally {
    seed.fill(0);
  }
}

/** The Molto2 for the flash-batch service: the same profile on each device put on the reader. */
export function molto2Flasher(input: Omit<ProfileFlashInput, 'seed' | 'batchId' | 'confirm'>): TokenFlasher {
  return {
    format: 'token2-molto2',
    flash: (store, transport, ctx) =>
      flashProfile(store, transport, {
        ...input,
        user: ctx.user ?? input.user,
        batchId: ctx.batchId,
        onStep: ctx.onStep ?? input.onStep,
        confirm: ctx.confirm
          ? (serial) => ctx.confirm!(profileSerial(serial, input.profile), `Molto2 ${serial} profile ${input.profile}`)
          : undefined,
      }),
  };
}

export interface ProfileListing extends ProfileView {
  /** The store token for this profile, when there is one. */
  serial: string | null;
  state: string | null;
  user: string | null;
}

export interface ProfilesResult {
  deviceSerial: string;
  variant: string;
  profileCount: number;
  clockOffset: number;
  reader: string;
  profiles: ProfileListing[];
}

export async function listProfiles(
  store: Store | null,
  transport: ApduTransport,
  c: Molto2Common = {},
): Promise<ProfilesResult> {
  const r = await driverFor(transport, c).listProfiles();
  const known = store ? await store.tokens.list({ deviceSerial: r.info.serial }) : [];
  const byProfile = new Map(known.map((t) => [t.profile, t]));
  const profiles: ProfileListing[] = [];
  for (const p of r.profiles) {
    const t = byProfile.get(p.profile);
    profiles.push({
      ...p,
      serial: t?.serial ?? null,
      state: t?.state ?? null,
      user: t && store ? (await viewToken(store, t)).user : null,
    });
  }
  return {
    deviceSerial: r.info.serial,
    variant: r.variant,
    profileCount: r.profiles.length,
    clockOffset: r.info.offset,
    reader: transport.readerName,
    profiles,
  };
}

export interface ProfilesSyncResult {
  deviceSerial: string;
  profiles: number[];
  offsetsBefore: number[];
  offsetAfter: number;
  commands: number;
}

export async function syncProfiles(
  store: Store,
  transport: ApduTransport,
  which: number[] | 'all',
  c: Molto2Common = {},
): Promise<ProfilesSyncResult> {
  const out = await driverFor(transport, c).syncProfiles(which);
  await store.transaction(async (tx) => {
    for (const t of await tx.tokens.list({ deviceSerial: out.info.serial })) {
      if (t.profile !== null && out.profiles.includes(t.profile))
        await tx.tokens.update(t.id, {
          driftSteps: 0,
          attributes: { ...t.attributes, syncedAt: new Date(c.now?.() ?? Date.now()).toISOString() },
        });
    }
    await tx.audit.append({
      action: 'token.sync',
      subject: `device:${out.info.serial}`,
      details: {
        model: 'token2-molto2',
        reader: transport.readerName,
        profiles: which === 'all' ? 'all' : out.profiles,
        offsetsBefore: out.offsetsBefore,
        offsetAfter: out.offsetAfter,
      },
    });
  });
  return {
    deviceSerial: out.info.serial,
    profiles: out.profiles,
    offsetsBefore: out.offsetsBefore,
    offsetAfter: out.offsetAfter,
    commands: out.commands,
  };
}

export interface EraseResult {
  deviceSerial: string;
  profile: number;
  serial: string;
  /** The store token went back to stock without its seed. */
  storeUpdated: boolean;
}

/** Deletes one profile's seed; a store token for it goes back to stock (only from programmed: unassign it first). */
export async function eraseProfile(
  store: Store,
  transport: ApduTransport,
  profile: number,
  c: Molto2Common = {},
): Promise<EraseResult> {
  const driver = driverFor(transport, c);
  const info = await driver.readInfo();
  const serial = profileSerial(info.serial, profile);
  const existing = await store.tokens.findOne(MOLTO2_MANUFACTURER, serial);
  // A token already back in stock has nothing to move; any other state must allow `erase` (unassign first).
  if (existing && existing.state !== 'in_stock') nextState(existing.state, 'erase');
  await driver.deleteSeed(profile);
  // Whether the store changed is the function's value: PostgreSQL may run it more than once.
  const storeUpdated = await store.transaction(async (tx) => {
    const t = existing ? await tx.tokens.get(existing.id) : null;
    if (t)
      await tx.tokens.update(t.id, {
        state: t.state === 'in_stock' ? t.state : nextState(t.state, 'erase'),
        seed: null,
      });
    await tx.audit.append({
      action: 'token.erase',
      subject: `token:${serial}`,
      details: {
        model: 'token2-molto2',
        deviceSerial: info.serial,
        profile,
        reader: transport.readerName,
        inStore: Boolean(t),
        from: t?.state ?? null,
      },
    });
    return t !== null;
  });
  return { deviceSerial: info.serial, profile, serial, storeUpdated };
}

/** Lock/unlock the screen, change the customer key, factory reset: the rarely used Molto2 commands. */
export async function molto2Admin(
  store: Store,
  transport: ApduTransport,
  action: { kind: 'lock' } | { kind: 'unlock' } | { kind: 'set-key'; newKey: string } | { kind: 'factory-reset' },
  c: Molto2Common = {},
): Promise<{ deviceSerial: string; action: string; waitingForButton: boolean }> {
  const d = driverFor(transport, c);
  let serial: string;
  let waiting = false;
  if (action.kind === 'lock' || action.kind === 'unlock')
    serial = (await d.setScreenLock(action.kind === 'lock')).serial;
  else if (action.kind === 'set-key') {
    let key: Uint8Array;
    try {
      key = parseCustomerKey(action.newKey);
    } catch (e) {
      throw new UsageError(`--new-customer-key: ${(e as Error).message}`, 'bad-customer-key');
    }
    const r = await d.changeCustomerKey(key);
    key.fill(0);
    serial = r.info.serial;
    waiting = r.waitingForButton;
  } else {
    const r = await d.factoryReset();
    serial = r.info.serial;
    waiting = r.waitingForButton;
  }
  await store.audit.append({
    action: `device.${action.kind}`,
    subject: `device:${serial}`,
    details: { model: 'token2-molto2', reader: transport.readerName, waitingForButton: waiting },
  });
  return { deviceSerial: serial, action: action.kind, waitingForButton: waiting };
}

/**
 * Molto2 profile flash (its input: profile-input.ts; listing, clock sync,
 * erase and the key commands: profile-admin.ts). In the store every profile is
 * its own token (serial `<device serial>-<nn>`, with device_serial and profile
 * set), so each can go to a different user. The store is written only once the
 * device confirmed.
 */
import { PolicyError, TokensmithError, UsageError } from '../../../core/errors.js';
import { nextState } from '../../../core/states.js';
import type { Repos, Store, TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import { Molto2WriteError, type Molto2Driver } from '../../../../drivers/token2-molto2/driver.js';
import { assignWithin, checkReflash } from '../../assign.js';
import { batchOf, type TokenFlasher } from '../../flash-batch.js';
import { freshSeed } from '../token2-nfc/flash.js';
import { findResource } from '../../resources.js';
import { viewToken, type TokenView } from '../../tokens.js';
import { findUser } from '../../users.js';

export {
  driverFor,
  MOLTO2_MANUFACTURER,
  parseProfileFlashInput,
  parseProfileNumber,
  profileSerial,
  type Molto2Common,
  type ProfileFlashInput,
} from './profile-input.js';
import { driverFor, MOLTO2_MANUFACTURER, profileSerial, type ProfileFlashInput } from './profile-input.js';

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
  await checkReflash(store, existing, input);
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
    const at = { sourceName: transport.readerName, format: 'token2-molto2', operator: store.operator };
    const batch = await batchOf(tx, input.batchId, at);
    const batchId = batch.id;
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
    await batch.done('flashed');
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

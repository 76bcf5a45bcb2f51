/**
 * `device flash --model yubikey-otp`: OATH-HOTP into slot 1 or 2 of a
 * YubiKey, then the token in the store (kind programmable, type hotp, its
 * counter, a flash batch, an audit row) in one transaction, only once the key
 * has taken the write. A configured slot is overwritten only with --force; a
 * protected slot needs its access code, and a wrong one is tried once.
 */
import { randomBytes } from 'node:crypto';
import { decodeBase32, decodeHex } from '../../../core/codecs.js';
import { DataError, DeviceError, PolicyError, UsageError } from '../../../core/errors.js';
import { nextState } from '../../../core/states.js';
import type { Store, TokenRecord } from '../../../store/types.js';
import { YubiOtpDriver, type YubiOtpInfo } from '../../../../drivers/yubikey/otp/driver.js';
import {
  IMF_MAX,
  OtpFrameError,
  type HotpSlotSettings,
  type OtpStatus,
} from '../../../../drivers/yubikey/otp/protocol.js';
import { batchOf, cancelledError, type BatchTokenContext } from '../../flash-batch.js';
import { checkReflash } from '../../assign.js';
import { findResource } from '../../resources.js';
import { viewToken, type TokenView } from '../../tokens.js';

export const YUBICO_MANUFACTURER = 'Yubico';
export const YUBIKEY_OTP_MODEL = 'yubikey-otp';

export interface YubikeyOtpInput {
  slot: 1 | 2;
  digits: 6 | 8;
  counter: number;
  seed?: Uint8Array;
  tokenId?: Uint8Array;
  /** The slot's current access code; the new configuration keeps it (as ykman does). */
  accessCode?: Uint8Array;
  force: boolean;
  resource?: string;
  batchId?: number;
}

export interface YubikeyOtpResult {
  serial: string;
  deviceSerial: string;
  slot: 1 | 2;
  digits: number;
  counter: number;
  firmware: string;
  link: 'hid' | 'ccid';
  reader: string;
  batch: number;
  overwroteSlot: boolean;
  token: TokenView;
}

/** The store's serial of a slot: privacyIDEA's `UBOM<serial>_<slot>`, which the YubiKey CSV import also makes. */
export function slotSerial(deviceSerial: number, slot: 1 | 2): string {
  return `UBOM${String(deviceSerial).padStart(8, '0')}_${slot}`;
}

/** 12 hex digits (6 bytes); the message never echoes the value. */
export function parseAccessCode(text: string, what = '--access-code'): Uint8Array {
  const clean = text.trim().replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(clean))
    throw new UsageError(`${what}: an access code is 12 hex digits (6 bytes)`, 'bad-access-code');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Raw CLI values -> a checked input (usage errors name the flag). */
export function parseYubikeyOtpInput(raw: {
  slot?: string;
  digits?: string;
  counter?: string;
  seed?: string;
  tokenId?: string;
  accessCode?: Uint8Array;
  force?: boolean;
  resource?: string;
}): YubikeyOtpInput {
  if (raw.slot !== '1' && raw.slot !== '2')
    throw new UsageError(
      `--slot: 1 or 2${raw.slot === undefined ? ' (a YubiKey has two OTP slots; say which to program)' : `, not '${raw.slot}'`}`,
      'bad-slot',
    );
  const digits = Number(raw.digits ?? 6);
  if (digits !== 6 && digits !== 8) throw new UsageError(`--digits: 6 or 8, not '${raw.digits}'`, 'bad-digits');
  const counter = Number(raw.counter ?? 0);
  if (!Number.isInteger(counter) || counter < 0 || counter > IMF_MAX || counter % 16 !== 0)
    throw new UsageError(
      `--counter: the initial moving factor of a YubiKey slot is a multiple of 16 from 0 to ${IMF_MAX}, not '${raw.counter}'`,
      'bad-counter',
    );
  const seed = raw.seed === undefined ? undefined : decodeBase32(raw.seed, '--seed');
  if (seed && (seed.length === 0 || seed.length > 20))
    throw new UsageError(
      `--seed: a YubiKey OTP slot holds an HMAC-SHA1 key of 1 to 20 bytes, not ${seed.length}`,
      'bad-seed',
    );
  const tokenId = raw.tokenId === undefined ? undefined : decodeHex(raw.tokenId, '--token-id');
  if (tokenId && tokenId.length > 16)
    throw new UsageError('--token-id: at most 16 bytes (32 hex digits)', 'bad-token-id');
  return {
    slot: raw.slot === '1' ? 1 : 2,
    digits,
    counter,
    seed,
    tokenId,
    accessCode: raw.accessCode,
    force: Boolean(raw.force),
    resource: raw.resource,
  };
}

/** Refuses, before anything is written: a configured slot or a slot the store holds a seed for, without --force (exit 5). */
export function refuseOverwrite(
  status: OtpStatus,
  input: YubikeyOtpInput,
  serial: string,
  existing: TokenRecord | null,
): void {
  if (input.force) return;
  // The store's seed first: a key a batch already programmed is skipped, as a token of any family is.
  if (existing?.hasSeed)
    throw new PolicyError(
      `refused: ${existing.serial} is in the store with a seed (state ${existing.state}). Add --force to overwrite it; nothing was written`,
      {
        code: 'seed-present',
        where: existing.serial,
      },
    );
  const configured = input.slot === 1 ? status.slot1Configured : status.slot2Configured;
  if (configured)
    throw new PolicyError(
      `refused: slot ${input.slot} of YubiKey ${serial} is already configured; programming it replaces what it holds. Add --force to overwrite it; nothing was written`,
      {
        code: 'slot-configured',
        where: serial,
      },
    );
}

/** Reads the key; one with its serial hidden cannot be named in the store. */
export async function identify(driver: YubiOtpDriver): Promise<YubiOtpInfo & { serial: number }> {
  const info = await driver.readInfo();
  if (info.serial === null)
    throw new DeviceError(
      'the YubiKey does not show its serial number (serial-API-visible is off), so the store could not name the token; enable it with `ykman config` or use another key',
      {
        code: 'no-serial',
      },
    );
  return { ...info, serial: info.serial };
}

function settingsOf(input: YubikeyOtpInput, seed: Uint8Array): HotpSlotSettings {
  return {
    seed,
    digits: input.digits,
    counter: input.counter,
    tokenId: input.tokenId,
    newAccessCode: input.accessCode,
  };
}

/** Programs the slot (one attempt), then registers the token in one transaction. */
export async function flashYubikeyOtp(
  store: Store,
  driver: YubiOtpDriver,
  input: YubikeyOtpInput,
  where: { reader: string; now?: () => number; confirm?: BatchTokenContext['confirm'] },
): Promise<YubikeyOtpResult> {
  if (input.resource) await findResource(store, input.resource);
  const info = await identify(driver);
  const serial = slotSerial(info.serial, input.slot);
  const existing = await store.tokens.findOne(YUBICO_MANUFACTURER, serial);
  refuseOverwrite(info.status, input, serial, existing);
  await checkReflash(store, existing, {});
  // A batch's stop (or its operator's no) once the key is identified: nothing written.
  if (where.confirm && !(await where.confirm(serial, `slot ${input.slot}`))) throw cancelledError(serial);
  const seed = input.seed ? Uint8Array.from(input.seed) : randomBytes(20);
  const overwroteSlot = input.slot === 1 ? info.status.slot1Configured : info.status.slot2Configured;
  try {
    await driver.programHotp(input.slot, settingsOf(input, seed), input.accessCode, info.status);
  } catch (e) {
    if (e instanceof OtpFrameError) throw new DataError(e.message, { code: 'bad-settings' });
    throw e;
  }
  const token = await registerSlot(store, {
    serial,
    deviceSerial: String(info.serial),
    seed,
    input,
    info,
    reader: where.reader,
    overwroteSlot,
    now: where.now,
  });
  return {
    serial,
    deviceSerial: String(info.serial),
    slot: input.slot,
    digits: input.digits,
    counter: input.counter,
    firmware: info.status.version.join('.'),
    link: info.link,
    reader: where.reader,
    batch: token.batchId ?? 0,
    overwroteSlot,
    token: await viewToken(store, token),
  };
}

interface Registration {
  serial: string;
  deviceSerial: string;
  seed: Uint8Array;
  input: YubikeyOtpInput;
  info: YubiOtpInfo;
  reader: string;
  overwroteSlot: boolean;
  now?: () => number;
}

/** The store side of a flash: token (insert or update), batch, audit row; never the seed or the access code in the audit. */
async function registerSlot(store: Store, r: Registration): Promise<TokenRecord> {
  return store.transaction(async (tx) => {
    const at = { sourceName: r.reader, format: YUBIKEY_OTP_MODEL, operator: store.operator };
    const batch = await batchOf(tx, r.input.batchId, at);
    const batchId = batch.id;
    const resourceId = r.input.resource ? (await findResource(tx, r.input.resource)).id : undefined;
    const prev = await tx.tokens.findOne(YUBICO_MANUFACTURER, r.serial);
    const attributes = {
      ...(prev?.attributes ?? {}),
      slot: r.input.slot,
      firmware: r.info.status.version.join('.'),
      ...(r.input.tokenId ? { tokenId: Buffer.from(r.input.tokenId).toString('hex') } : {}),
      flashedAt: new Date(r.now?.() ?? Date.now()).toISOString(),
    };
    const fields = {
      model: YUBIKEY_OTP_MODEL,
      kind: 'programmable' as const,
      type: 'hotp' as const,
      algorithm: 'sha1' as const,
      digits: r.input.digits,
      period: 30,
      counter: r.input.counter,
      driftSteps: 0,
      batchId,
      seed: r.seed,
      attributes,
      deviceSerial: r.deviceSerial,
      profile: r.input.slot,
    };
    const t = prev
      ? await tx.tokens.update(prev.id, {
          ...fields,
          failedAttempts: 0,
          locked: false,
          lastUsedStep: null,
          state: nextState(prev.state, 'flash'),
          ...(resourceId !== undefined ? { resourceId } : {}),
        })
      : await tx.tokens.insert({
          serial: r.serial,
          manufacturer: YUBICO_MANUFACTURER,
          ...fields,
          state: nextState('in_stock', 'flash'),
          resourceId: resourceId ?? null,
        });
    await tx.audit.append({
      action: 'token.flash',
      subject: `token:${t.serial}`,
      details: {
        model: YUBIKEY_OTP_MODEL,
        deviceSerial: r.deviceSerial,
        slot: r.input.slot,
        link: r.info.link,
        reader: r.reader,
        digits: r.input.digits,
        counter: r.input.counter,
        seedBytes: r.seed.length,
        accessCode: Boolean(r.input.accessCode),
        overwroteSlot: r.overwroteSlot,
        batch: batchId,
        from: prev?.state ?? null,
        to: t.state,
      },
    });
    await batch.done('flashed');
    return t;
  });
}

/**
 * `device info`, `device sync`, `device verify` for a Token2 NFC token: what
 * the token says, setting its clock, and checking a code read off its display against the store.
 */
import { DataError, PolicyError, TokensmithError, UsageError } from '../../../core/errors.js';
import { findCode } from '../../../core/otp.js';
import type { Store, TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import { Token2Driver, Token2WriteError, type Token2Settings } from '../../../../drivers/token2-nfc/driver.js';
import {
  DISPLAY_TIMEOUTS,
  type DisplayTimeoutSeconds,
  type Token2Model,
} from '../../../../drivers/token2-nfc/protocol.js';
import { TOKEN2_MANUFACTURER } from './flash.js';

export interface DeviceInfoView {
  serial: string;
  model: string;
  product: string | null;
  reader: string;
  /** The token's clock, ISO time and UTC seconds. */
  deviceTime: string;
  deviceSeconds: number;
  /** The token's clock minus the host's, in seconds. */
  offsetSeconds: number;
  wipesSeedOnSync: boolean;
  /** The store's view of it, when it knows the token. */
  inStore: boolean;
  state: string | null;
}

export interface DeviceOptions {
  model?: Token2Model;
  now?: () => number;
  onStep?: (s: string) => void;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

export async function deviceInfo(
  store: Store | null,
  transport: ApduTransport,
  opts: DeviceOptions = {},
): Promise<DeviceInfoView> {
  const info = await new Token2Driver(transport, opts).readInfo();
  const t = store ? await store.tokens.findOne(TOKEN2_MANUFACTURER, info.serial) : null;
  return {
    serial: info.serial,
    model: info.model,
    product: info.product,
    reader: transport.readerName,
    deviceTime: iso(info.deviceTime),
    deviceSeconds: info.deviceTime,
    offsetSeconds: info.offset,
    wipesSeedOnSync: info.wipesSeedOnConfig,
    inStore: Boolean(t),
    state: t?.state ?? null,
  };
}

export interface SyncInput extends DeviceOptions {
  /** Settings for a token the store does not know (C302-i only). */
  algorithm?: 'sha1' | 'sha256';
  period?: 30 | 60;
  displayTimeout?: DisplayTimeoutSeconds;
}

export interface SyncResult {
  serial: string;
  model: string;
  product: string | null;
  offsetBefore: number;
  offsetAfter: number;
  /** Whether the seed from the store was written again (restricted-sync models). */
  seedRewritten: boolean;
  commands: number;
}

function settingsOf(t: TokenRecord | null, input: SyncInput): Token2Settings | null {
  const alg = input.algorithm ?? (t?.algorithm === 'sha1' || t?.algorithm === 'sha256' ? t.algorithm : undefined);
  const period = input.period ?? (t?.period === 30 || t?.period === 60 ? t.period : undefined);
  const stored = Number(t?.attributes?.displayTimeout);
  const displayTimeout =
    input.displayTimeout ??
    ((DISPLAY_TIMEOUTS as readonly number[]).includes(stored) ? (stored as DisplayTimeoutSeconds) : 30);
  if (!alg || !period) return null;
  return { algorithm: alg, period, displayTimeout };
}

export async function syncDevice(store: Store, transport: ApduTransport, input: SyncInput = {}): Promise<SyncResult> {
  const driver = new Token2Driver(transport, input);
  let token: TokenRecord | null = null;
  let seed: Buffer | null = null;
  let settings: Token2Settings | null = null;
  let serial: string | null = null;
  try {
    const out = await driver.syncClock(null, null, async (info) => {
      serial = info.serial;
      token = await store.tokens.findOne(TOKEN2_MANUFACTURER, info.serial);
      const name = `${info.product ?? info.model} ${info.serial}`;
      if (info.wipesSeedOnConfig && (!token || !token.hasSeed)) {
        throw new PolicyError(
          `refused: ${name} wipes its seed when its clock is set, so a sync writes the seed again from the store, and the store ${token ? 'holds no seed for it' : 'does not know this token'}; nothing was written. Flash it instead: tokensmith device flash`,
          { code: 'unknown-token', where: info.serial },
        );
      }
      settings = settingsOf(token, input);
      if (!settings) {
        throw new UsageError(
          `the store does not know ${name}: give its --algorithm and --period so the config write keeps them; nothing was written`,
          'settings-needed',
        );
      }
      if (info.wipesSeedOnConfig) seed = await store.tokens.openSeed(token!);
      return { settings, seed };
    });
    const result: SyncResult = {
      serial: out.info.serial,
      model: out.info.model,
      product: out.info.product,
      offsetBefore: out.info.offset,
      offsetAfter: out.offsetAfter,
      seedRewritten: out.info.wipesSeedOnConfig,
      commands: out.commands,
    };
    await store.transaction(async (tx) => {
      const t = token ? await tx.tokens.get((token as TokenRecord).id) : null;
      if (t)
        await tx.tokens.update(t.id, {
          driftSteps: 0,
          attributes: { ...t.attributes, displayTimeout: settings!.displayTimeout, syncedAt: new Date().toISOString() },
        });
      await tx.audit.append({
        action: 'token.sync',
        subject: `token:${out.info.serial}`,
        details: {
          model: out.info.model,
          reader: transport.readerName,
          offsetBefore: out.info.offset,
          offsetAfter: out.offsetAfter,
          seedRewritten: result.seedRewritten,
          inStore: Boolean(t),
        },
      });
    });
    return result;
  } catch (e) {
    if (e instanceof TokensmithError && e.exitCode === 3 && serial) {
      const w = e instanceof Token2WriteError ? e : null;
      await store.audit.append({
        action: 'token.sync-failed',
        subject: `token:${serial}`,
        details: {
          reader: transport.readerName,
          error: e.code,
          step: w?.step ?? null,
          configWritten: w?.configWritten ?? false,
          seedWritten: w?.seedWritten ?? false,
        },
      });
    }
    throw e;
  } finally {
    (seed as Buffer | null)?.fill(0);
  }
}

export interface VerifyResult {
  serial: string;
  code: string;
  ok: boolean;
  /** The token's drift in time steps (positive: the token runs ahead). */
  driftSteps: number | null;
  window: number;
}

export async function verifyDevice(
  store: Store,
  transport: ApduTransport,
  code: string,
  opts: DeviceOptions & { window?: number; at?: Date } = {},
): Promise<VerifyResult> {
  const info = await new Token2Driver(transport, opts).readInfo();
  const token = await store.tokens.findOne(TOKEN2_MANUFACTURER, info.serial);
  if (!token || !token.hasSeed)
    throw new DataError(
      `token ${info.serial} is not in the store with a seed: nothing to check the code against (flash it first)`,
      { code: 'not-found', where: info.serial },
    );
  const wanted = code.trim();
  if (!new RegExp(`^\\d{${token.digits}}$`).test(wanted))
    throw new UsageError(`--code: ${token.serial} shows ${token.digits}-digit codes, got '${code}'`, 'bad-code');
  const window = opts.window ?? 10;
  const seed = await store.tokens.openSeed(token);
  let match;
  try {
    match = findCode(seed, token, wanted, { at: opts.at, window });
  } finally {
    seed.fill(0);
  }
  await store.transaction(async (tx) => {
    if (match) await tx.tokens.update(token.id, { driftSteps: match.offset });
    await tx.audit.append({
      action: 'token.verify',
      subject: `token:${token.serial}`,
      details: { ok: Boolean(match), driftSteps: match?.offset ?? null, window, tokenClockOffset: info.offset },
    });
  });
  if (!match) {
    throw new DataError(
      `code ${wanted} from ${token.serial} does not match its stored seed within ±${window} steps of the host's clock: read it again, or the token holds another seed (flash it again)`,
      { code: 'code-rejected', where: token.serial },
    );
  }
  return { serial: token.serial, code: wanted, ok: true, driftSteps: match.offset, window };
}

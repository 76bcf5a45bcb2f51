/**
 * YubiKey OATH services: write one credential and register it (listing,
 * erase, verify and the key's info: oath-admin.ts). In the store every credential is its own token (serial
 * `<device id>-<nn>`, device_serial and profile set, the credential name in
 * its attributes), as Molto2 profiles are. The access password is asked for
 * only when the key has one, used for one VALIDATE, and never kept.
 */
import { randomBytes } from 'node:crypto';
import { DeviceError, PolicyError } from '../../../core/errors.js';
import { generateCode } from '../../../core/otp.js';
import { nextState } from '../../../core/states.js';
import type { Repos, Store, TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import {
  OathDriver,
  flashCredential,
  type OathCredentialSpec,
  type OathDeviceInfo,
} from '../../../../drivers/yubikey/oath-driver.js';
import { parseCredentialName, type OathAlgorithm, type OathType } from '../../../../drivers/yubikey/oath-protocol.js';
import { assignWithin, checkReflash } from '../../assign.js';
import { batchOf, cancelledError, type BatchTokenContext } from '../../flash-batch.js';
import { findResource } from '../../resources.js';
import { viewToken, type TokenView } from '../../tokens.js';
import { findUser } from '../../users.js';

export const YUBICO_MANUFACTURER = 'Yubico';
export const MODEL = 'yubikey-oath';

export { parseOathFlashInput, type OathCommon, type OathFlashInput } from './oath-input.js';
import { credentialNameOf, type OathFlashInput } from './oath-input.js';

export function freshOathSeed(algorithm: OathAlgorithm): Uint8Array {
  return new Uint8Array(randomBytes({ sha1: 20, sha256: 32, sha512: 64 }[algorithm]));
}

/** The store serial of the nth credential written to a key: `<device id>-<nn>`. */
export function oathSerial(deviceId: string, profile: number): string {
  return `${deviceId.toUpperCase()}-${String(profile).padStart(2, '0')}`;
}

/** The store token of a credential on this key (by its name), and the number the next new one gets. */
export async function storeSlot(
  repos: Repos,
  deviceId: string,
  name: string,
): Promise<{ existing: TokenRecord | null; next: number }> {
  const tokens = await repos.tokens.list({ deviceSerial: deviceId.toUpperCase() });
  const mine = tokens.filter((t) => t.manufacturer === YUBICO_MANUFACTURER);
  return {
    existing: mine.find((t) => t.attributes.credentialName === name) ?? null,
    next: Math.max(0, ...mine.map((t) => t.profile ?? 0)) + 1,
  };
}

export interface OathFlashResult {
  serial: string;
  deviceId: string;
  version: string;
  credential: string;
  type: OathType;
  algorithm: OathAlgorithm;
  digits: number;
  period: number;
  touch: boolean;
  replaced: boolean;
  credentialCount: number;
  batch: number;
  reader: string;
  token: TokenView;
}

async function preflight(store: Store, input: OathFlashInput): Promise<void> {
  if (!input.resource) return;
  const r = await findResource(store, input.resource);
  if (!input.user) return;
  const u = await findUser(store, input.user);
  if (!(await store.users.isInResource(u.id, r.id)))
    throw new PolicyError(
      `refused: user '${u.login}' is not a user of Resource '${r.name}'; add them first, nothing was written`,
      { code: 'user-not-in-resource' },
    );
}

/** The key's code for the new credential must be the seed's (this step or a neighbour, for a step boundary between the two). */
function checkCodeNow(code: string | null, seed: Uint8Array, spec: OathCredentialSpec, at: number): void {
  if (code === null) return;
  const t = { type: 'totp' as const, algorithm: spec.algorithm, digits: spec.digits, period: spec.period, counter: 0 };
  const near = [-1, 0, 1].map((d) => generateCode(seed, t, { at: new Date(at + d * spec.period * 1000) }));
  if (!near.includes(code))
    throw new DeviceError(
      `credential '${spec.name}' is on the key, but its code is not the one its seed gives; it was not registered: delete it (device erase --name) and flash again`,
      {
        code: 'write-not-confirmed',
      },
    );
}

export async function flashOathCredential(
  store: Store,
  transport: ApduTransport,
  input: OathFlashInput,
  confirm?: BatchTokenContext['confirm'],
): Promise<OathFlashResult> {
  await preflight(store, input);
  const now = input.now ?? Date.now;
  const seed = input.seed ? Uint8Array.from(input.seed) : freshOathSeed(input.algorithm);
  let slot: { serial: string; profile: number; existing: TokenRecord | null } | null = null;
  const driver = new OathDriver(transport, { now });
  const out = await flashCredential(driver, input.password, async (info, onKey) => {
    const deviceId = info.deviceId.toUpperCase();
    const probe = await storeSlot(
      store,
      deviceId,
      input.account === undefined ? '' : credentialNameOf(input, input.account),
    );
    const profile = probe.existing?.profile ?? probe.next;
    const name = credentialNameOf(input, input.account ?? oathSerial(deviceId, profile));
    const { existing } = input.account === undefined ? { existing: null } : probe;
    if (onKey.some((c) => c.name === name) && !input.force)
      throw new PolicyError(
        `refused: the YubiKey already holds credential '${name}'; add --force to replace it; nothing was written`,
        { code: 'credential-exists', where: name },
      );
    if (existing?.hasSeed && !input.force)
      throw new PolicyError(
        `refused: credential '${name}' is in the store with a seed (${existing.serial}, state ${existing.state}); add --force to overwrite it; nothing was written`,
        {
          code: 'credential-has-seed',
          where: existing.serial,
        },
      );
    await checkReflash(store, existing, input);
    slot = { serial: existing?.serial ?? oathSerial(deviceId, profile), profile, existing };
    // A batch's stop (or its operator's no) once the key is identified: nothing written.
    if (confirm && !(await confirm(slot.serial, name))) throw cancelledError(slot.serial);
    return {
      name,
      type: input.type,
      algorithm: input.algorithm,
      digits: input.digits,
      period: input.period,
      touch: input.touch,
      counter: input.counter,
      secret: seed,
    };
  });
  checkCodeNow(out.codeNow, seed, out.credential, now());
  const token = await registerCredential(store, transport, input, seed, out, slot!);
  seed.fill(0);
  const c = out.credential;
  return {
    serial: token.serial,
    deviceId: out.info.deviceId.toUpperCase(),
    version: out.info.version,
    credential: c.name,
    type: c.type,
    algorithm: c.algorithm,
    digits: c.digits,
    period: c.period,
    touch: Boolean(c.touch),
    replaced: out.replaced,
    credentialCount: out.credentialCount,
    batch: token.batchId!,
    reader: transport.readerName,
    token: await viewToken(store, token),
  };
}

// Why: the token's attributes after a flash (kept ones plus what the key now holds) are one step, apart from the writes.
function flashAttributes(
  prev: TokenRecord | null,
  c: OathCredentialSpec,
  info: OathDeviceInfo,
  input: OathFlashInput,
): Record<string, unknown> {
  const parsed = parseCredentialName(c.name, c.type);
  return {
    ...(prev?.attributes ?? {}),
    credentialName: c.name,
    issuer: parsed.issuer,
    account: parsed.account,
    touch: Boolean(c.touch),
    oathVersion: info.version,
    flashedAt: new Date((input.now ?? Date.now)()).toISOString(),
  };
}

/** Where the credential goes in the store: its serial, profile, and the token already there. */
interface CredentialSlot {
  serial: string;
  profile: number;
  existing: TokenRecord | null;
}

/** What the key confirmed: its info, whether a credential was replaced, and the credential written. */
interface KeyOutcome {
  info: OathDeviceInfo;
  replaced: boolean;
  credential: OathCredentialSpec;
}

/** The credential's token, updated in place or added (state moved by the flash). */
async function saveCredentialToken(
  tx: Repos,
  input: OathFlashInput,
  seed: Uint8Array,
  out: KeyOutcome,
  slot: CredentialSlot,
  batchId: number,
): Promise<{ token: TokenRecord; prev: TokenRecord | null }> {
  const c = out.credential;
  const resourceId = input.resource ? (await findResource(tx, input.resource)).id : undefined;
  const prev = await tx.tokens.findOne(YUBICO_MANUFACTURER, slot.serial);
  const fields = {
    model: 'YubiKey',
    kind: 'programmable' as const,
    type: c.type,
    algorithm: c.algorithm,
    digits: c.digits,
    period: c.period,
    counter: c.counter ?? 0,
    driftSteps: 0,
    batchId,
    seed,
    attributes: flashAttributes(prev, c, out.info, input),
  };
  if (prev) {
    const token = await tx.tokens.update(prev.id, {
      ...fields,
      state: nextState(prev.state, 'flash'),
      failedAttempts: 0,
      locked: false,
      lastUsedStep: null,
      ...(resourceId !== undefined ? { resourceId } : {}),
    });
    return { token, prev };
  }
  const token = await tx.tokens.insert({
    serial: slot.serial,
    manufacturer: YUBICO_MANUFACTURER,
    ...fields,
    state: nextState('in_stock', 'flash'),
    deviceSerial: out.info.deviceId.toUpperCase(),
    profile: slot.profile,
    resourceId: resourceId ?? null,
  });
  return { token, prev };
}

/** The flash's audit row: what was written, never the seed. */
async function auditCredentialFlash(
  tx: Repos,
  readerName: string,
  seedBytes: number,
  out: KeyOutcome,
  saved: { token: TokenRecord; prev: TokenRecord | null; batchId: number },
): Promise<void> {
  const c = out.credential;
  await tx.audit.append({
    action: 'token.flash',
    subject: `token:${saved.token.serial}`,
    details: {
      model: MODEL,
      deviceSerial: out.info.deviceId.toUpperCase(),
      credential: c.name,
      reader: readerName,
      type: c.type,
      algorithm: c.algorithm,
      digits: c.digits,
      period: c.period,
      touch: Boolean(c.touch),
      seedBytes,
      replaced: out.replaced,
      batch: saved.batchId,
      from: saved.prev?.state ?? null,
      to: saved.token.state,
    },
  });
}

/** One transaction once the key confirmed: the token, a flash batch, an audit row (never the seed), the assignment. */
async function registerCredential(
  store: Store,
  transport: ApduTransport,
  input: OathFlashInput,
  seed: Uint8Array,
  out: KeyOutcome,
  slot: CredentialSlot,
): Promise<TokenRecord> {
  return store.transaction(async (tx) => {
    const batch = await batchOf(tx, input.batchId, {
      sourceName: transport.readerName,
      format: MODEL,
      operator: store.operator,
    });
    const batchId = batch.id;
    const { token, prev } = await saveCredentialToken(tx, input, seed, out, slot, batchId);
    await auditCredentialFlash(tx, transport.readerName, seed.length, out, { token, prev, batchId });
    await batch.done('flashed');
    if (!input.user) return token;
    const assigned = await assignWithin(tx, {
      serial: slot.serial,
      manufacturer: YUBICO_MANUFACTURER,
      login: input.user,
      resource: input.resource!,
      via: 'flash',
    });
    return assigned.token;
  });
}

/**
 * YubiKey OATH services: write one credential and register it, list the
 * credentials with their store tokens, erase one, verify one, read the key's
 * info. In the store every credential is its own token (serial
 * `<device id>-<nn>`, device_serial and profile set, the credential name in
 * its attributes), as Molto2 profiles are. The access password is asked for
 * only when the key has one, used for one VALIDATE, and never kept.
 */
import { randomBytes } from 'node:crypto';
import { decodeBase32 } from '../../../core/codecs.js';
import { DataError, DeviceError, PolicyError, UsageError } from '../../../core/errors.js';
import { generateCode } from '../../../core/otp.js';
import { nextState } from '../../../core/states.js';
import type { Repos, Store, TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import {
  OathDriver,
  flashCredential,
  readOathInfo,
  type OathCredentialSpec,
  type OathDeviceInfo,
  type PasswordSource,
} from '../../../../drivers/yubikey/oath-driver.js';
import {
  MAX_NAME_BYTES,
  OATH_ALGORITHMS,
  formatCredentialName,
  parseCredentialName,
  type ListedCredential,
  type OathAlgorithm,
  type OathType,
} from '../../../../drivers/yubikey/oath-protocol.js';
import { assignWithin, checkAssignRules } from '../../assign.js';
import { findResource } from '../../resources.js';
import { viewToken, type TokenView } from '../../tokens.js';
import { findUser } from '../../users.js';

export const YUBICO_MANUFACTURER = 'Yubico';
const MODEL = 'yubikey-oath';

export interface OathCommon {
  password?: PasswordSource;
  now?: () => number;
}

export interface OathFlashInput extends OathCommon {
  /** The account part of the name; default: the store serial. */
  account?: string;
  issuer?: string;
  type: OathType;
  algorithm: OathAlgorithm;
  digits: number;
  period: number;
  touch: boolean;
  counter: number;
  seed?: Uint8Array;
  force?: boolean;
  resource?: string;
  user?: string;
  batchId?: number;
}

/** CLI values -> a checked OathFlashInput (usage errors name the flag). */
export function parseOathFlashInput(raw: {
  name?: string;
  issuer?: string;
  type?: string;
  algorithm?: string;
  digits?: string;
  period?: string;
  touch?: boolean;
  counter?: string;
  seed?: string;
  force?: boolean;
  resource?: string;
  user?: string;
}): OathFlashInput {
  const type = (raw.type ?? 'totp').toLowerCase();
  if (type !== 'totp' && type !== 'hotp') throw new UsageError(`--type: totp or hotp, not '${raw.type}'`, 'bad-type');
  const algorithm = (raw.algorithm ?? 'sha1').toLowerCase().replace('-', '') as OathAlgorithm;
  if (!OATH_ALGORITHMS.includes(algorithm))
    throw new UsageError(`--algorithm: a YubiKey does sha1, sha256 or sha512, not '${raw.algorithm}'`, 'bad-algorithm');
  const digits = Number(raw.digits ?? 6);
  if (![6, 7, 8].includes(digits))
    throw new UsageError(`--digits: a YubiKey shows 6, 7 or 8 digits, not '${raw.digits}'`, 'bad-digits');
  const period = Number(raw.period ?? 30);
  if (!Number.isInteger(period) || period < 1 || period > 3600 || (type === 'hotp' && raw.period !== undefined))
    throw new UsageError(`--period: whole seconds from 1 to 3600, for TOTP only; not '${raw.period}'`, 'bad-period');
  const counter = Number(raw.counter ?? 0);
  if (
    !Number.isInteger(counter) ||
    counter < 0 ||
    counter > 0xffffffff ||
    (type === 'totp' && raw.counter !== undefined)
  )
    throw new UsageError(
      `--counter: the first HOTP counter, 0 to 4294967295, for HOTP only; not '${raw.counter}'`,
      'bad-counter',
    );
  if (raw.issuer !== undefined && (raw.issuer === '' || raw.issuer.includes(':')))
    throw new UsageError(
      `--issuer: a name without ':' (it separates issuer and account), not '${raw.issuer}'`,
      'bad-issuer',
    );
  if (raw.user && !raw.resource)
    throw new UsageError(
      '--user needs --resource: a token is assigned to a user within a Resource',
      'user-needs-resource',
    );
  const seed = raw.seed === undefined ? undefined : decodeBase32(raw.seed, '--seed');
  if (seed && (seed.length < 1 || seed.length > 64))
    throw new DataError(`--seed is ${seed.length} bytes; a YubiKey credential takes 1 to 64`, {
      code: 'bad-seed-length',
    });
  const input: OathFlashInput = {
    account: raw.name,
    issuer: raw.issuer,
    type,
    algorithm,
    digits,
    period: type === 'hotp' ? 30 : period,
    touch: Boolean(raw.touch),
    counter,
    seed,
    force: raw.force,
    resource: raw.resource,
    user: raw.user,
  };
  if (raw.name !== undefined) credentialNameOf(input, raw.name);
  return input;
}

/** The full name on the key, checked for length. */
function credentialNameOf(input: OathFlashInput, account: string): string {
  const name = formatCredentialName({ issuer: input.issuer, account, period: input.period, type: input.type });
  if (account === '' || Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES)
    throw new UsageError(
      `--name: the credential name '${name}' must be 1 to ${MAX_NAME_BYTES} bytes with its issuer and period`,
      'bad-name',
    );
  return name;
}

export function freshOathSeed(algorithm: OathAlgorithm): Uint8Array {
  return new Uint8Array(randomBytes({ sha1: 20, sha256: 32, sha512: 64 }[algorithm]));
}

/** The store serial of the nth credential written to a key: `<device id>-<nn>`. */
export function oathSerial(deviceId: string, profile: number): string {
  return `${deviceId.toUpperCase()}-${String(profile).padStart(2, '0')}`;
}

/** The store token of a credential on this key (by its name), and the number the next new one gets. */
async function storeSlot(
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
    if (existing) nextState(existing.state, 'flash');
    if (input.user && existing)
      await checkAssignRules(
        store,
        existing,
        await findUser(store, input.user),
        await findResource(store, input.resource!),
      );
    slot = { serial: existing?.serial ?? oathSerial(deviceId, profile), profile, existing };
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

/** One transaction once the key confirmed: the token, a flash batch, an audit row (never the seed), the assignment. */
async function registerCredential(
  store: Store,
  transport: ApduTransport,
  input: OathFlashInput,
  seed: Uint8Array,
  out: { info: OathDeviceInfo; replaced: boolean; credential: OathCredentialSpec },
  slot: { serial: string; profile: number; existing: TokenRecord | null },
): Promise<TokenRecord> {
  const c = out.credential;
  const deviceId = out.info.deviceId.toUpperCase();
  return store.transaction(async (tx) => {
    const batchId =
      input.batchId ??
      (
        await tx.batches.create({
          kind: 'flash',
          sourceName: transport.readerName,
          format: MODEL,
          operator: store.operator,
        })
      ).id;
    const resourceId = input.resource ? (await findResource(tx, input.resource)).id : undefined;
    const prev = await tx.tokens.findOne(YUBICO_MANUFACTURER, slot.serial);
    const attributes = flashAttributes(prev, c, out.info, input);
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
      attributes,
    };
    let t: TokenRecord;
    if (prev)
      t = await tx.tokens.update(prev.id, {
        ...fields,
        state: nextState(prev.state, 'flash'),
        failedAttempts: 0,
        locked: false,
        lastUsedStep: null,
        ...(resourceId !== undefined ? { resourceId } : {}),
      });
    else
      t = await tx.tokens.insert({
        serial: slot.serial,
        manufacturer: YUBICO_MANUFACTURER,
        ...fields,
        state: nextState('in_stock', 'flash'),
        deviceSerial: deviceId,
        profile: slot.profile,
        resourceId: resourceId ?? null,
      });
    await tx.audit.append({
      action: 'token.flash',
      subject: `token:${slot.serial}`,
      details: {
        model: MODEL,
        deviceSerial: deviceId,
        credential: c.name,
        reader: transport.readerName,
        type: c.type,
        algorithm: c.algorithm,
        digits: c.digits,
        period: c.period,
        touch: Boolean(c.touch),
        seedBytes: seed.length,
        replaced: out.replaced,
        batch: batchId,
        from: prev?.state ?? null,
        to: t.state,
      },
    });
    if (input.batchId === undefined) await tx.batches.finish(batchId, { imported: 1, skipped: 0, failed: 0 }, 'done');
    if (input.user)
      t = (
        await assignWithin(tx, {
          serial: slot.serial,
          manufacturer: YUBICO_MANUFACTURER,
          login: input.user,
          resource: input.resource!,
          via: 'flash',
        })
      ).token;
    return t;
  });
}

export interface OathCredentialView {
  name: string;
  type: OathType;
  algorithm: OathAlgorithm;
  issuer: string | null;
  account: string;
  period: number;
  serial: string | null;
  state: string | null;
  user: string | null;
}

export interface OathKeyView extends OathDeviceInfo {
  reader: string;
  /** null when the key has a password and none was given (device info only). */
  credentialCount: number | null;
  credentials: OathCredentialView[];
}

async function credentialViews(
  store: Store,
  deviceId: string,
  onKey: ListedCredential[],
): Promise<OathCredentialView[]> {
  const tokens = (await store.tokens.list({ deviceSerial: deviceId.toUpperCase() })).filter(
    (t) => t.manufacturer === YUBICO_MANUFACTURER,
  );
  return Promise.all(
    onKey.map(async (c) => {
      const t = tokens.find((x) => x.attributes.credentialName === c.name);
      const v = t ? await viewToken(store, t) : null;
      return {
        ...c,
        ...parseCredentialName(c.name, c.type),
        serial: t?.serial ?? null,
        state: t?.state ?? null,
        user: v?.user ?? null,
      };
    }),
  );
}

/** `device profiles`: the credentials on the key, each with its store token (if any). */
export async function listOathCredentials(
  store: Store,
  transport: ApduTransport,
  c: OathCommon = {},
): Promise<OathKeyView> {
  const r = await readOathInfo(new OathDriver(transport, { now: c.now }), c.password);
  const credentials = await credentialViews(store, r.deviceId, r.credentials);
  return {
    version: r.version,
    deviceId: r.deviceId.toUpperCase(),
    passwordSet: r.passwordSet,
    reader: transport.readerName,
    credentialCount: credentials.length,
    credentials,
  };
}

/** `device info`: version, device id, password or not, and the credential count when the key is open (or a password was given). */
export async function oathInfo(
  store: Store,
  transport: ApduTransport,
  c: { password?: PasswordSource; now?: () => number } = {},
): Promise<OathKeyView> {
  const driver = new OathDriver(transport, { now: c.now });
  const info = await driver.select();
  if (info.passwordSet && c.password === undefined)
    return {
      ...info,
      deviceId: info.deviceId.toUpperCase(),
      reader: transport.readerName,
      credentialCount: null,
      credentials: [],
    };
  return listOathCredentials(store, transport, c);
}

/** `device erase --name`: deletes one credential; its store token goes back to stock without a seed. */
export async function eraseOathCredential(
  store: Store,
  transport: ApduTransport,
  name: string,
  c: OathCommon = {},
): Promise<{ deviceId: string; name: string; serial: string | null; storeUpdated: boolean }> {
  const driver = new OathDriver(transport, { now: c.now });
  const info = await driver.open(c.password);
  const deviceId = info.deviceId.toUpperCase();
  if (!(await driver.list()).some((x) => x.name === name))
    throw new DataError(`the YubiKey ${deviceId} holds no credential '${name}' (device profiles lists them)`, {
      code: 'no-such-credential',
    });
  const { existing } = await storeSlot(store, deviceId, name);
  if (existing && existing.state !== 'in_stock') nextState(existing.state, 'erase');
  await driver.delete(name);
  await store.transaction(async (tx) => {
    const t = existing ? await tx.tokens.get(existing.id) : null;
    if (t)
      await tx.tokens.update(t.id, {
        state: t.state === 'in_stock' ? t.state : nextState(t.state, 'erase'),
        seed: null,
      });
    await tx.audit.append({
      action: 'token.erase',
      subject: `token:${existing?.serial ?? `${deviceId}:${name}`}`,
      details: {
        model: MODEL,
        deviceSerial: deviceId,
        credential: name,
        reader: transport.readerName,
        inStore: Boolean(t),
        from: t?.state ?? null,
      },
    });
  });
  return { deviceId, name, serial: existing?.serial ?? null, storeUpdated: Boolean(existing) };
}

/** `device verify`: the key calculates a TOTP credential's code now; it must equal the stored seed's. */
export async function verifyOathCredential(
  store: Store,
  transport: ApduTransport,
  name: string | undefined,
  c: OathCommon = {},
): Promise<{ serial: string; name: string; code: string; matches: true }> {
  const now = c.now ?? Date.now;
  const driver = new OathDriver(transport, { now });
  const info = await driver.open(c.password);
  const deviceId = info.deviceId.toUpperCase();
  const tokens = (await store.tokens.list({ deviceSerial: deviceId })).filter(
    (t) => t.manufacturer === YUBICO_MANUFACTURER && t.hasSeed && t.type === 'totp',
  );
  const token =
    name === undefined
      ? tokens.length === 1
        ? tokens[0]
        : undefined
      : tokens.find((t) => t.attributes.credentialName === name);
  if (!token)
    throw new UsageError(
      name === undefined
        ? `the store holds ${tokens.length} TOTP credentials of YubiKey ${deviceId}: say which with --name`
        : `the store holds no TOTP credential '${name}' of YubiKey ${deviceId}`,
      'name-needed',
    );
  const credName = String(token.attributes.credentialName);
  if (token.attributes.touch)
    throw new UsageError(
      `credential '${credName}' needs a touch of the key for each code: check it with ykman oath accounts code instead`,
      'touch-required',
    );
  const code = await driver.calculate(credName, 'totp', token.period);
  const seed = await store.tokens.openSeed(token);
  const at = now();
  const near = [-1, 0, 1].map((d) => generateCode(seed, token, { at: new Date(at + d * token.period * 1000) }));
  seed.fill(0);
  if (!near.includes(code))
    throw new DataError(
      `the YubiKey's code for '${credName}' does not match the seed the store holds for ${token.serial}: the key holds another seed (flash it again)`,
      {
        code: 'code-mismatch',
        where: token.serial,
      },
    );
  return { serial: token.serial, name: credName, code, matches: true };
}

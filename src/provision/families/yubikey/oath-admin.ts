/**
 * YubiKey OATH services besides the flash: list the credentials with their
 * store tokens, erase one, verify one, read the key's info. The access password
 * is asked for only when the key has one, and never kept.
 */
import { DataError, UsageError } from '../../../core/errors.js';
import { generateCode } from '../../../core/otp.js';
import { erasedState } from '../../../core/states.js';
import type { Store } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import {
  OathDriver,
  readOathInfo,
  type OathDeviceInfo,
  type PasswordSource,
} from '../../../../drivers/yubikey/oath-driver.js';
import {
  parseCredentialName,
  type ListedCredential,
  type OathAlgorithm,
  type OathType,
} from '../../../../drivers/yubikey/oath-protocol.js';
import { viewToken } from '../../tokens.js';
import { MODEL, storeSlot, YUBICO_MANUFACTURER, type OathCommon } from './oath.js';

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
  // Refused before the key is touched when the stored token's state does not allow it.
  if (existing) erasedState(existing.state);
  await driver.delete(name);
  await store.transaction(async (tx) => {
    const t = existing ? await tx.tokens.get(existing.id) : null;
    if (t) await tx.tokens.update(t.id, { state: erasedState(t.state), seed: null });
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

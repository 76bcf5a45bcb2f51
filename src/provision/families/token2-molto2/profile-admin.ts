/**
 * Molto2 profile services besides the flash: list the profiles, sync their
 * clocks, erase one, and the device-wide key commands. In the store every
 * profile is its own token (serial `<device serial>-<nn>`).
 */
import { UsageError } from '../../../core/errors.js';
import { erasedState } from '../../../core/states.js';
import type { Store } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import type { ProfileView } from '../../../../drivers/token2-molto2/driver.js';
import { parseCustomerKey } from '../../../../drivers/token2-molto2/protocol.js';
import { viewToken } from '../../tokens.js';
import { driverFor, MOLTO2_MANUFACTURER, profileSerial, type Molto2Common } from './profile-input.js';

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
  // Refused before the device is touched when the stored token's state does not allow it.
  if (existing) erasedState(existing.state);
  await driver.deleteSeed(profile);
  // Whether the store changed is the function's value: PostgreSQL may run it more than once.
  const storeUpdated = await store.transaction(async (tx) => {
    const t = existing ? await tx.tokens.get(existing.id) : null;
    if (t) await tx.tokens.update(t.id, { state: erasedState(t.state), seed: null });
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

export type AdminAction =
  { kind: 'lock' } | { kind: 'unlock' } | { kind: 'set-key'; newKey: string } | { kind: 'factory-reset' };

/** Lock/unlock the screen, change the customer key, factory reset: the rarely used Molto2 commands. */
export async function molto2Admin(
  store: Store,
  transport: ApduTransport,
  action: AdminAction,
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

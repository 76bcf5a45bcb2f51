/**
 * Protectimus Slim NFC / Flex services: identify, verify a token against its
 * stored seed by reading the code off the token itself (the drift in steps),
 * and set its clock. Seed writing is not public: flash is refused.
 * A token is found in the store by --serial (printed on it), or by the card
 * UID remembered from an earlier verify or sync.
 */
import { DataError, DeviceError, NotFoundError } from '../../../core/errors.js';
import { findCode } from '../../../core/otp.js';
import type { Store, TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import { ProtectimusDriver, seedWriteNotPublic } from '../../../../drivers/protectimus/driver.js';
import type { ProtectimusModel } from '../../../../drivers/protectimus/protocol.js';

export const PROTECTIMUS_MANUFACTURER = 'Protectimus';

export interface ProtectimusOptions {
  model: ProtectimusModel;
  /** The serial printed on the token (the frame protocol does not tell it). */
  serial?: string;
  now?: () => number;
  onStep?: (s: string) => void;
}

export interface ProtectimusInfoView {
  model: ProtectimusModel;
  reader: string;
  uid: string | null;
  hardwareScheme: string;
  firmware: string;
  rtc: boolean;
  interval: number | null;
  /** The store token it matched (by --serial or UID), when any. */
  serial: string | null;
  inStore: boolean;
  state: string | null;
}

async function findByUidOrSerial(
  store: Store | null,
  uid: string | null,
  serial?: string,
): Promise<TokenRecord | null> {
  if (!store) return null;
  if (serial) {
    const t =
      (await store.tokens.findOne(PROTECTIMUS_MANUFACTURER, serial)) ??
      (await store.tokens.findBySerial(serial))[0] ??
      null;
    if (!t)
      throw new NotFoundError(
        `no token with serial ${serial} in the store: register it first with \`tokensmith tokens add ${serial} --secret <base32> --manufacturer Protectimus\``,
      );
    return t;
  }
  if (!uid) return null;
  return store.tokens.findByUid(uid);
}

export async function protectimusInfo(
  store: Store | null,
  transport: ApduTransport,
  o: ProtectimusOptions,
): Promise<ProtectimusInfoView> {
  const d = new ProtectimusDriver(transport, o);
  const uid = await d.readUid();
  const info = await d.readInfo();
  const t = await findByUidOrSerial(store, uid, o.serial).catch(() => null);
  return {
    model: o.model,
    reader: transport.readerName,
    uid,
    ...info,
    interval: info.interval,
    serial: t?.serial ?? null,
    inStore: Boolean(t),
    state: t?.state ?? null,
  };
}

export interface ProtectimusVerifyResult {
  serial: string;
  model: ProtectimusModel;
  code: string;
  ok: boolean;
  driftSteps: number;
  /** The drift in seconds, as steps times the interval. */
  driftSeconds: number;
  window: number;
}

async function tokenFor(store: Store, uid: string | null, o: ProtectimusOptions): Promise<TokenRecord> {
  const t = await findByUidOrSerial(store, uid, o.serial);
  if (!t)
    throw new DataError(
      `the store does not know this ${o.model} (UID ${uid ?? 'unknown'}): say which token it is with --serial <the serial printed on it>`,
      { code: 'not-found' },
    );
  if (!t.hasSeed)
    throw new DataError(`token ${t.serial} has no seed in the store: nothing to compare its code with`, {
      code: 'no-seed',
      where: t.serial,
    });
  return t;
}

/** Reads the code on the token and finds it around the host's time: the drift in steps. */
export async function protectimusVerify(
  store: Store,
  transport: ApduTransport,
  o: ProtectimusOptions & { window?: number },
): Promise<ProtectimusVerifyResult> {
  const d = new ProtectimusDriver(transport, o);
  const uid = await d.readUid();
  const token = await tokenFor(store, uid, o);
  const { code, at } = await d.readCode();
  const window = o.window ?? 10;
  if (code.length !== token.digits)
    throw new DataError(
      `token ${token.serial} shows ${code.length} digits, the store says ${token.digits}: check the token's record`,
      { code: 'digits-mismatch', where: token.serial },
    );
  const seed = await store.tokens.openSeed(token);
  let match;
  try {
    match = findCode(seed, token, code, { at: new Date(at), window });
  } finally {
    seed.fill(0);
  }
  await store.transaction(async (tx) => {
    await tx.tokens.update(token.id, {
      ...(match ? { driftSteps: match.offset } : {}),
      attributes: { ...token.attributes, ...(uid ? { uid } : {}) },
    });
    await tx.audit.append({
      action: 'token.verify',
      subject: `token:${token.serial}`,
      details: {
        model: o.model,
        reader: transport.readerName,
        readFromToken: true,
        ok: Boolean(match),
        driftSteps: match?.offset ?? null,
        window,
      },
    });
  });
  if (!match) {
    throw new DataError(
      `the code on ${token.serial} does not match its stored seed within ±${window} steps of this computer's clock: the token holds another seed, or its clock is further off (set it: tokensmith device sync)`,
      {
        code: 'code-rejected',
        where: token.serial,
      },
    );
  }
  return {
    serial: token.serial,
    model: o.model,
    code,
    ok: true,
    driftSteps: match.offset,
    driftSeconds: match.offset * token.period,
    window,
  };
}

export interface ProtectimusSyncResult {
  serial: string | null;
  model: ProtectimusModel;
  interval: number;
  timeWritten: number;
  /** Drift before and after, in steps, when the store holds the seed to check with. */
  driftBefore: number | null;
  driftAfter: number | null;
}

/** Sets the token's clock to the host's, then reads its code back as the check (against the stored seed when known). */
export async function protectimusSync(
  store: Store,
  transport: ApduTransport,
  o: ProtectimusOptions,
): Promise<ProtectimusSyncResult> {
  const d = new ProtectimusDriver(transport, o);
  const uid = await d.readUid();
  const token = await findByUidOrSerial(store, uid, o.serial);
  const seed = token?.hasSeed ? await store.tokens.openSeed(token) : null;
  try {
    const drift = async (): Promise<number | null> => {
      const { code, at } = await d.readCode();
      if (!seed || !token) return null;
      return findCode(seed, token, code, { at: new Date(at), window: 100 })?.offset ?? null;
    };
    const driftBefore = await drift();
    const w = await d.setTime();
    const driftAfter = await drift();
    if (seed && driftAfter !== 0)
      throw new DeviceError(
        `after setting the clock the code of ${token!.serial} is ${driftAfter === null ? 'not found near' : `${driftAfter} steps off`} the host's time: set it again, or the token holds another seed`,
        { code: 'clock-check-failed', where: token!.serial },
      );
    await store.transaction(async (tx) => {
      if (token)
        await tx.tokens.update(token.id, {
          driftSteps: 0,
          attributes: {
            ...token.attributes,
            ...(uid ? { uid } : {}),
            syncedAt: new Date(o.now?.() ?? Date.now()).toISOString(),
          },
        });
      await tx.audit.append({
        action: 'token.sync',
        subject: token ? `token:${token.serial}` : `uid:${uid ?? 'unknown'}`,
        details: {
          model: o.model,
          reader: transport.readerName,
          interval: w.interval,
          driftBefore,
          driftAfter,
          inStore: Boolean(token),
        },
      });
    });
    return {
      serial: token?.serial ?? null,
      model: o.model,
      interval: w.interval,
      timeWritten: w.timeWritten,
      driftBefore,
      driftAfter,
    };
  } finally {
    seed?.fill(0);
  }
}

/** `device flash` on a Protectimus: refused, it says why and what to do instead. */
export function protectimusFlash(model: ProtectimusModel): never {
  throw seedWriteNotPublic(model);
}

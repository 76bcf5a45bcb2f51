/**
 * The YubiKey family, two models: yubikey-oath, the OATH application over any
 * PC/SC reader (drivers/yubikey/oath-*.ts), and yubikey-otp, OATH-HOTP in an
 * OTP slot over USB HID, or CCID with --reader (drivers/yubikey/otp/). Each
 * per-model piece (simulator, replay, describer, opener) dispatches on the
 * model or on the frame; the verbs and flags are in ./family-cli.ts, the help
 * texts in ./help.ts, the USB HID part in ./hid.ts.
 */
import { UsageError } from '../../src/core/errors.js';
import type { ApduTransport } from '../../src/transport/types.js';
import type { DeviceFamily, OpenOptions } from '../family.js';
import { describeFrame as describeOathFrame, isSeedBearing as isOathSeedBearing } from './describe.js';
import { checkYubikeyModel, detectYubikey, YUBIKEY_FLAGS, YUBIKEY_VERBS } from './family-cli.js';
import { YUBIKEY_HELP } from './help.js';
import { OATH_OPERATIONS, YUBIKEY_OATH_MODEL, createOathSimulator, replayOath } from './oath-family.js';
import { DEFAULT_OATH_SERIAL } from './oath-simulator.js';
import {
  OTP_OPERATIONS,
  YUBIKEY_OTP_MODEL,
  createOtpSimulator,
  describeOtpFrame,
  isOtpFrame,
  isOtpSeedBearing,
  otpDefaultSerial,
  replayOtp,
} from './otp/index.js';

export { YUBIKEY_OATH_MODEL, YUBIKEY_OTP_MODEL };

/** yubikey-otp without --reader: the key's USB HID interface (node-hid, loaded only here). */
async function openOtpHid(o: OpenOptions): Promise<ApduTransport> {
  const { openYubikeyHid, listYubikeysHid } = await import('./hid.js');
  const { portAsFrames } = await import('../../src/transport/hid-reports.js');
  const hidPath = o.options?.hidPath;
  const key = await openYubikeyHid(typeof hidPath === 'string' ? hidPath : undefined);
  const t = portAsFrames(key, { readerName: `${key.product} (${key.path})` });
  // Taken away = its HID path is no longer listed (a batch waits for this before the next key).
  const onRemoved = (listener: () => void) => {
    const timer = setInterval(
      () =>
        void listYubikeysHid().then(
          (keys) => keys.some((k) => k.path === key.path) || (clearInterval(timer), listener()),
          () => {},
        ),
      500,
    );
    return () => clearInterval(timer);
  };
  return { ...t, onRemoved, close: async () => (await t.close(), await key.close()) };
}

export const yubikey: DeviceFamily = {
  name: 'yubikey',
  models: [YUBIKEY_OATH_MODEL, YUBIKEY_OTP_MODEL],
  summary:
    'YubiKey: OATH credentials (TOTP/HOTP, touch, access password) over PC/SC (yubikey-oath); OATH-HOTP in OTP slot 1 or 2 over USB HID or CCID (yubikey-otp)',
  describe: (bytes, dir, command) =>
    isOtpFrame(bytes, dir, command) ? describeOtpFrame(bytes, dir, command) : describeOathFrame(bytes, dir, command),
  isSeedBearing: (command) => (isOtpFrame(command, 'command') ? isOtpSeedBearing(command) : isOathSeedBearing(command)),
  simulator: {
    defaultSerial: (model) => (model === YUBIKEY_OTP_MODEL ? otpDefaultSerial() : DEFAULT_OATH_SERIAL),
    options: [],
    create: (model, s, onChange) => {
      if (model === YUBIKEY_OATH_MODEL || model === 'yubikey') return createOathSimulator(s, onChange);
      if (model === YUBIKEY_OTP_MODEL) return createOtpSimulator(model, s, onChange);
      throw new UsageError(`simulate: the yubikey family has no simulator for '${model}'`, 'not-supported');
    },
  },
  // SELECT of the OATH application: asked after the other families, so their probes and counts stay as they were.
  detect: detectYubikey,
  detectOrder: 30,
  // yubikey-oath is a PC/SC card; yubikey-otp is the HID key unless --reader names its CCID reader.
  open: (o) => (o.model === YUBIKEY_OTP_MODEL && o.reader === undefined ? openOtpHid(o) : o.openPcsc()),
  // The keys on USB HID, which no PC/SC listing shows (node-hid loaded only here).
  listDevices: async () => (await import('./hid.js')).listedYubikeys(),
  help: YUBIKEY_HELP,
  flags: YUBIKEY_FLAGS,
  checkModel: checkYubikeyModel,
  verbs: YUBIKEY_VERBS,
  operations: [...new Set([...OATH_OPERATIONS, ...OTP_OPERATIONS])],
  async replay(model, op, transport, ctx) {
    if (model === YUBIKEY_OTP_MODEL) await replayOtp(op, transport, ctx);
    else await replayOath(op, transport, ctx);
  },
};
export default yubikey;

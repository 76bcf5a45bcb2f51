/**
 * The YubiKey family. Model yubikey-otp: OATH-HOTP in an OTP slot, over USB
 * HID or CCID (drivers/yubikey/otp/). The OATH application's model joins
 * this family in the same file.
 */
import type { DeviceFamily } from '../family.js';
import { OTP_OPERATIONS, OTP_VERBS, YUBIKEY_OTP_MODEL, createOtpSimulator, describeOtpFrame, isOtpSeedBearing, otpDefaultSerial, replayOtp } from './otp/index.js';

export const yubikey: DeviceFamily = {
  name: 'yubikey',
  models: [YUBIKEY_OTP_MODEL],
  summary: 'YubiKey: OATH-HOTP in OTP slot 1 or 2, over USB HID or CCID',
  describe: describeOtpFrame,
  isSeedBearing: isOtpSeedBearing,
  simulator: { defaultSerial: otpDefaultSerial, options: [], create: createOtpSimulator },
  verbs: OTP_VERBS,
  operations: OTP_OPERATIONS,
  replay: (_model, op, transport, ctx) => replayOtp(op, transport, ctx),
};
export default yubikey;

/**
 * The YubiKey family. Model yubikey-oath is the OATH application over any
 * PC/SC reader (drivers/yubikey/oath-*.ts); a second model (the OTP slots,
 * drivers/yubikey/otp/) joins it by adding its name to `models` and a branch
 * to the three per-model dispatches below.
 */
import { UsageError } from '../../src/core/errors.js';
import type { DeviceFamily } from '../family.js';
import { describeFrame, isSeedBearing } from './describe.js';
import { OATH_OPERATIONS, YUBIKEY_OATH_MODEL, createOathSimulator, replayOath } from './oath-family.js';
import { DEFAULT_OATH_SERIAL } from './oath-simulator.js';

export { YUBIKEY_OATH_MODEL };

export const yubikey: DeviceFamily = {
  name: 'yubikey',
  models: [YUBIKEY_OATH_MODEL],
  summary: 'YubiKey: OATH credentials (TOTP/HOTP, optional touch and access password) over any PC/SC reader',
  describe: describeFrame,
  isSeedBearing,
  simulator: {
    defaultSerial: () => DEFAULT_OATH_SERIAL,
    options: [],
    create: (model, s, onChange) => {
      if (model === YUBIKEY_OATH_MODEL || model === 'yubikey') return createOathSimulator(s, onChange);
      throw new UsageError(`simulate: the yubikey family has no simulator for '${model}'`, 'not-supported');
    },
  },
  verbs: ['info', 'flash', 'verify', 'profiles', 'erase'],
  operations: [...OATH_OPERATIONS],
  async replay(model, op, transport, ctx) {
    await replayOath(op, transport, ctx);
  },
};
export default yubikey;

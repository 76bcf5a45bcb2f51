/** The yubikey family's provision code: its verbs and checks (OATH and OTP models, ./verbs.ts). */
import type { ProvisionFamily } from '../contract.js';
import { keysFlasher } from './batch.js';
import { yubikeyChecks, yubikeyVerbs } from './verbs.js';

export const yubikey: ProvisionFamily = {
  name: 'yubikey',
  verbs: yubikeyVerbs,
  checks: yubikeyChecks,
  // No --users: the credentials are assigned afterwards.
  batch: { loop: 'keys', users: false, what: 'YubiKeys, with --batch alone', flasher: keysFlasher },
};

/** The yubikey family's provision code: its verbs and checks (OATH and OTP models, ./verbs.ts). */
import type { ProvisionFamily } from '../contract.js';
import { yubikeyChecks, yubikeyVerbs } from './verbs.js';

export const yubikey: ProvisionFamily = { name: 'yubikey', verbs: yubikeyVerbs, checks: yubikeyChecks };

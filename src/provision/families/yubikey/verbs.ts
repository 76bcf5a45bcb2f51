/**
 * The yubikey family's `device <verb>` handlers: one family, two models with
 * their own code (yubikey-oath.ts, the OATH application; yubikey-otp.ts, the
 * OTP slots), chosen by the model --model named or detection read.
 */
import type { DeviceVerb } from '../../../../drivers/family.js';
import type { DeviceVerbContext, FamilyVerbChecks, FamilyVerbHandlers, VerbCheckContext } from '../verb-types.js';
import { oathChecks, oathVerbs } from './oath-verbs.js';
import { otpChecks, otpVerbs } from './otp-verbs.js';

const isOtp = (model: string) => model === 'yubikey-otp';

/** The model's handler for the verb (the family's checkModel has refused a verb the model lacks before this runs). */
function byModel(verb: DeviceVerb) {
  return async (ctx: DeviceVerbContext): Promise<void> => {
    const handler = (isOtp(ctx.model) ? otpVerbs : oathVerbs)[verb];
    if (!handler) throw new Error(`unreachable: ${ctx.model} has no '${verb}' (checkModel refuses it)`);
    await handler(ctx);
  };
}

function checksByModel(verb: DeviceVerb) {
  return async (ctx: VerbCheckContext): Promise<unknown> => (isOtp(ctx.model) ? otpChecks : oathChecks)[verb]?.(ctx);
}

const VERBS: readonly DeviceVerb[] = ['info', 'flash', 'verify', 'profiles', 'erase'];

export const yubikeyVerbs: FamilyVerbHandlers = Object.fromEntries(VERBS.map((v) => [v, byModel(v)]));
export const yubikeyChecks: FamilyVerbChecks = Object.fromEntries(VERBS.map((v) => [v, checksByModel(v)]));

/**
 * The yubikey family's batch (`device flash --model yubikey-oath|yubikey-otp
 * --batch [n]`): each key is opened as a single flash opens it (the family's
 * `open`: the PC/SC reader, or USB HID for OTP) and flashed by its model's
 * code with a fresh seed: one OATH credential named from its store serial, or
 * one OTP slot. The flash-batch service counts the keys and keeps the batch
 * record, as for any family.
 */
import type { FlashedToken, TokenFlasher } from '../../flash-batch.js';
import type { VerbCheckContext } from '../verb-types.js';
import type { PasswordSource } from '../../../../drivers/yubikey/oath-driver.js';
import type { OathFlashInput } from './oath-input.js';

/** The OATH model's name (oath.ts's MODEL; not imported, oath.ts loads the driver). */
const MODEL = 'yubikey-oath';
import type { YubikeyOtpInput } from './otp.js';

type BatchContext = VerbCheckContext & { prepared?: unknown };

/** OTP: one slot per key, over the transport the batch opened. */
async function otpFlasher(ctx: BatchContext): Promise<TokenFlasher> {
  const input = ctx.prepared as YubikeyOtpInput;
  const { flashOtpKey } = await import('./otp-verbs.js');
  return {
    format: ctx.model,
    async flash(store, transport, b): Promise<FlashedToken> {
      const r = await flashOtpKey({ ...ctx, store, transport }, { ...input, batchId: b.batchId }, b.confirm);
      return { ...r, model: ctx.model };
    },
  };
}

/** OATH: one fresh credential per key (the input as the flash checks parsed it, with the key's password). */
export function oathBatchFlasher(input: OathFlashInput): TokenFlasher {
  return {
    format: MODEL,
    async flash(store, transport, b): Promise<FlashedToken> {
      const { flashOathCredential } = await import('./oath.js');
      const r = await flashOathCredential(store, transport, { ...input, batchId: b.batchId }, b.confirm);
      return { ...r, model: MODEL };
    },
  };
}

/** The flasher of a batch of keys of the --model (its flash checks' value in ctx.prepared). */
export function keysFlasher(ctx: BatchContext): Promise<TokenFlasher> {
  if (ctx.model === 'yubikey-otp') return otpFlasher(ctx);
  const { input, password } = ctx.prepared as { password: PasswordSource; input: OathFlashInput };
  return Promise.resolve(oathBatchFlasher({ ...input, password }));
}

/**
 * The one context every built-in `device <verb>` handler takes: the family's
 * VerbContext (drivers/family.ts) with the store typed. A family's handlers
 * are one object `{ info, flash, sync, verify, profiles, erase }` (only the
 * verbs it has), registered in ./index.ts.
 */
import type { DeviceVerb, Prompter, VerbContext, VerbHandlers } from '../../../drivers/family.js';
import type { Store } from '../../store/types.js';

export type DeviceVerbContext = VerbContext<Store>;
export type FamilyVerbHandlers = VerbHandlers<Store>;

/** What a verb's checks see: the context without the device, which is not open yet. */
export type VerbCheckContext = Omit<DeviceVerbContext, 'transport' | 'prepared'>;
/** Checks (and settings parsed, secrets asked for) that run before the device is opened; the value reaches the handler as ctx.prepared. */
export type FamilyVerbChecks = Partial<Record<DeviceVerb, (ctx: VerbCheckContext) => Promise<unknown>>>;

/** "+3" / "-1" / "+0": drifts and offsets as the messages print them. */
export function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${n}`;
}

/** An option as a string (commander gives a string, or true for a bare flag). */
export function optString(ctx: DeviceVerbContext, key: string): string | undefined {
  const v = ctx.options[key];
  return typeof v === 'string' ? v : undefined;
}

/** For a caller with nobody to ask (tests, the station): every question is refused as a usage error. */
export const noPrompter: Prompter = {
  select: refuseToAsk,
  input: refuseToAsk,
  confirm: refuseToAsk,
  password: refuseToAsk,
};

async function refuseToAsk(o: { message: string }): Promise<never> {
  const { UsageError } = await import('../../core/errors.js');
  throw new UsageError(`nobody to ask "${o.message}": give it as an option`, 'confirm-needed');
}

/**
 * The verb table: each built-in family's `device <verb>` handlers, by family
 * name. A family plugs its handlers in here (store-side code), or carries
 * them itself in `handlers` (drivers/family.ts) when it needs no store.
 */
import type { DeviceFamily, DeviceVerb, VerbHandler } from '../../../drivers/family.js';
import type { Store } from '../../store/types.js';
import { protectimusVerbs } from './protectimus/verbs.js';
import { molto2Verbs } from './token2-molto2/verbs.js';
import { token2NfcVerbs } from './token2-nfc/verbs.js';
import type { FamilyVerbChecks, FamilyVerbHandlers, VerbCheckContext } from './verb-types.js';
import { yubikeyChecks, yubikeyVerbs } from './yubikey/verbs.js';

export const VERB_TABLE: Readonly<Record<string, FamilyVerbHandlers>> = {
  'token2-nfc': token2NfcVerbs,
  'token2-molto2': molto2Verbs,
  protectimus: protectimusVerbs,
  yubikey: yubikeyVerbs,
};

/** Checks a family's verb runs before the device is opened (by family name; most families need none). */
export const VERB_CHECKS: Readonly<Record<string, FamilyVerbChecks>> = {
  yubikey: yubikeyChecks,
};

/** The checks of `verb` on `family`, if it has any. */
export function verbChecks(
  family: DeviceFamily,
  verb: DeviceVerb,
): ((ctx: VerbCheckContext) => Promise<unknown>) | undefined {
  return VERB_CHECKS[family.name]?.[verb];
}

/** `device info` for a family that only reads its own info (readInfo): print its fields. */
function readInfoHandler(family: DeviceFamily): VerbHandler<Store> {
  return async (ctx) => {
    const fields = await family.readInfo!(ctx.model, ctx.transport);
    const r = { family: family.name, model: ctx.model, reader: ctx.transport.readerName, ...fields };
    ctx.output.result(r, () =>
      Object.entries(r)
        .map(([k, v]) => `${k.padEnd(15)} ${v ?? '-'}`)
        .join('\n'),
    );
  };
}

/** The handler for `verb` on `family`: its own, then the table's, then (info only) its readInfo; undefined when it gives no code. */
export function verbHandler(family: DeviceFamily, verb: DeviceVerb): VerbHandler<Store> | undefined {
  const own = family.handlers?.[verb] as VerbHandler<Store> | undefined;
  return (
    own ?? VERB_TABLE[family.name]?.[verb] ?? (verb === 'info' && family.readInfo ? readInfoHandler(family) : undefined)
  );
}

/**
 * The one path of every `device <verb>`, whoever asks (the CLI, the station):
 * the family from the model given (checked before any device is opened) or
 * from what the device answers, its flags and the verb's checks, the device
 * opened, then the family's handler (src/provision/families/<family>/) with one
 * context. The caller gives how the device is opened and how to ask the person
 * (a Prompter in the context). No family is named here.
 */
import {
  longFlag,
  type DeviceFamily,
  type DeviceVerb,
  type FamilyFlag,
  type VerbContext,
  type VerbHandler,
} from '../../drivers/family.js';
import type { ApduTransport } from '../transport/types.js';
import type { Store } from '../store/types.js';
import type { FamilyCommand } from './families/contract.js';
import type { VerbCheckContext } from './families/verb-types.js';

export type DeviceOpts = Record<string, string | boolean | undefined>;

/** What the caller gives every verb's context: everything but the device and what the session finds. */
export type SessionBase = Omit<VerbContext<Store>, 'family' | 'model' | 'modelGiven' | 'transport' | 'prepared'>;

/** commander's key for a flag: '--all-profiles' -> 'allProfiles'. */
export function flagKey(f: FamilyFlag): string {
  const name = longFlag(f.flag).replace(/^--/, '');
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** A family-only flag given for a family that does not take it: refused by name (exit 2); then the family's own rules per model. */
async function checkFlags(verb: DeviceVerb, family: DeviceFamily, model: string, o: DeviceOpts): Promise<void> {
  await checkOtherFamilies(verb, family, model, o);
  const refused = family.checkModel?.(verb, model, o);
  if (refused) throw refused;
}

async function checkOtherFamilies(verb: DeviceVerb, family: DeviceFamily, model: string, o: DeviceOpts): Promise<void> {
  const { families } = await import('../../drivers/registry.js');
  const mine = new Set((family.flags?.[verb] ?? []).map(flagKey));
  const all = (await families()).flatMap((f) => (f.flags?.[verb] ?? []).map((fl) => ({ fl, owner: f.name })));
  const stray = all.find(({ fl }) => o[flagKey(fl)] !== undefined && !mine.has(flagKey(fl)));
  if (!stray) return;
  const { UsageError } = await import('../core/errors.js');
  const owners = [...new Set(all.filter(({ fl }) => flagKey(fl) === flagKey(stray.fl)).map((x) => x.owner))].join(', ');
  const flag = longFlag(stray.fl.flag);
  throw new UsageError(
    `${model} has no ${flag} for device ${verb} (${flag} is for ${owners}; the token is a ${family.name})`,
    'no-such-flag',
  );
}

/** The handler, or the error for a family that lists the verb but gives no code for it. */
async function handlerOf(family: DeviceFamily, verb: DeviceVerb, model: string): Promise<VerbHandler<Store>> {
  const { verbHandler } = await import('./families/index.js');
  const h = await verbHandler(family, verb);
  if (h) return h;
  const { UsageError } = await import('../core/errors.js');
  throw new UsageError(
    `${model}: the ${family.name} family lists '${verb}' but gives tokensmith no code for it (a handler in its \`handlers\`, or in its src/provision/families folder)`,
    'no-such-verb',
  );
}

/** With --model: the family, its verb and its handler, all checked before any device is opened. */
export async function familyGiven(
  verb: DeviceVerb,
  o: DeviceOpts,
): Promise<{ family: DeviceFamily; model: string; handler: VerbHandler<Store> } | undefined> {
  if (typeof o.model !== 'string') return undefined;
  const { familyForVerb } = await import('../../drivers/registry.js');
  const family = await familyForVerb(verb, o.model);
  await checkFlags(verb, family, o.model, o);
  return { family, model: o.model, handler: await handlerOf(family, verb, o.model) };
}

/** The family of the device on `transport`, asked, then checked as --model's is. */
export async function detectedFamily(verb: DeviceVerb, transport: ApduTransport, o: DeviceOpts) {
  const { checkVerb, detectFamily } = await import('../../drivers/registry.js');
  const { family, model } = await detectFamily(transport);
  checkVerb(family, verb, model);
  await checkFlags(verb, family, model, o);
  return { family, model, handler: await handlerOf(family, verb, model) };
}

/**
 * Detect -> check -> open -> run: with a model given its family's checks run
 * before the device is opened; without, once detection told the family.
 * `open` opens the device (the family's own way when the model names one).
 */
export async function runDeviceSession(
  verb: DeviceVerb,
  o: DeviceOpts,
  base: SessionBase,
  open: (family: DeviceFamily | undefined) => Promise<ApduTransport>,
): Promise<void> {
  const given = await familyGiven(verb, o);
  const prepared = given
    ? await checksOf(given.family, verb, { ...base, family: given.family, model: given.model, modelGiven: true })
    : undefined;
  const transport = await open(given?.family);
  try {
    const found = given ?? (await detectedFamily(verb, transport, o));
    const ready = given
      ? prepared
      : await checksOf(found.family, verb, { ...base, family: found.family, model: found.model, modelGiven: false });
    await found.handler({
      ...base,
      family: found.family,
      model: found.model,
      modelGiven: Boolean(given),
      transport,
      prepared: ready,
    });
  } finally {
    await transport.close();
  }
}

/** Runs the family's checks for the verb (its provision side's `checks`), giving what they prepared. */
async function checksOf(family: DeviceFamily, verb: DeviceVerb, ctx: VerbCheckContext): Promise<unknown> {
  const { verbChecks } = await import('./families/index.js');
  return (await verbChecks(family, verb))?.(ctx);
}

/**
 * A family's own command (`device <group> <command>`, contract.ts
 * FamilyCommand): its device opened the family's way (no detection: the
 * command names the family), then the command, then the device closed.
 */
export async function runFamilyCommand(
  familyName: string,
  command: FamilyCommand,
  o: DeviceOpts,
  base: Pick<SessionBase, 'store' | 'output'>,
  open: (family: DeviceFamily | undefined) => Promise<ApduTransport>,
): Promise<void> {
  const { families } = await import('../../drivers/registry.js');
  const family = (await families()).find((f) => f.name === familyName);
  if (!family) {
    const { UsageError } = await import('../core/errors.js');
    throw new UsageError(`no device family '${familyName}' is loaded`, 'no-such-family');
  }
  const transport = await open(family);
  try {
    await command.run({ ...base, family, transport, options: o });
  } finally {
    await transport.close();
  }
}

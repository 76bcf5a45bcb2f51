/**
 * The one path of every `device <verb>`: the family from --model (checked
 * before any reader is opened) or from what the device answers, the family's
 * flags checked, then its handler for the verb (src/provision/families/<family>/,
 * or the family's own) with one context. No family is named here.
 */
import type { Command } from 'commander';
import { globalsOf, withStore, type Output } from '../context.js';
import type { DeviceFamily, DeviceVerb, FamilyFlag, VerbHandler } from '../../../drivers/family.js';
import type { ApduTransport } from '../../transport/types.js';
import type { Store } from '../../store/types.js';
import type { VerbCheckContext } from '../../provision/families/verb-types.js';
import { terminalPrompter } from '../prompter.js';

export type DeviceOpts = Record<string, string | boolean | undefined>;

/** A spinner on stderr when a person watches, nothing otherwise (never on stdout). */
async function progress(out: Output, json: boolean) {
  if (out.interactive && !json) {
    const { default: ora } = await import('ora');
    const spinner = ora({ stream: process.stderr });
    return {
      step: (t: string) => void (spinner.isSpinning ? (spinner.text = t) : spinner.start(t)),
      stop: () => void spinner.stop(),
    };
  }
  return { step: (_t: string) => {}, stop: () => {} };
}

export async function waitSeconds(o: DeviceOpts): Promise<number> {
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  if (!Number.isFinite(wait) || wait < 0) {
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError(`--wait must be a number of seconds, got '${String(o.wait)}'`);
  }
  return wait;
}

/** Opens the device: the family's own way when --model names a family that has one, else the PC/SC reader. */
export async function openDevice(
  family: DeviceFamily | undefined,
  o: DeviceOpts,
  out: Output,
  step: (t: string) => void = () => {},
): Promise<ApduTransport> {
  const wait = await waitSeconds(o);
  const onWaiting = (names: string[]) => {
    const text = `waiting up to ${wait} s for a token on ${names.map((n) => `"${n}"`).join(' or ')}`;
    if (out.interactive) step(text);
    else out.info(text);
  };
  const reader = typeof o.reader === 'string' ? o.reader : undefined;
  const openPcsc = async () =>
    (await import('../../transport/pcsc.js')).openPcscTransport({ reader, waitSeconds: wait, onWaiting });
  if (family?.open)
    return family.open({
      reader,
      waitSeconds: wait,
      onWaiting,
      model: typeof o.model === 'string' ? o.model : undefined,
      options: o,
      openPcsc,
    });
  return openPcsc();
}

/** commander's key for a flag: '--all-profiles' -> 'allProfiles'. */
export function flagKey(f: FamilyFlag): string {
  const name = f.flag.split(/[ <[]/)[0]!.replace(/^--/, '');
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** A family-only flag given for a family that does not take it: refused by name (exit 2); then the family's own rules per model. */
async function checkFlags(verb: DeviceVerb, family: DeviceFamily, model: string, o: DeviceOpts): Promise<void> {
  await checkOtherFamilies(verb, family, model, o);
  const refused = family.checkModel?.(verb, model, o);
  if (refused) throw refused;
}

async function checkOtherFamilies(verb: DeviceVerb, family: DeviceFamily, model: string, o: DeviceOpts): Promise<void> {
  const { families } = await import('../../../drivers/registry.js');
  const mine = new Set((family.flags?.[verb] ?? []).map(flagKey));
  const all = (await families()).flatMap((f) => (f.flags?.[verb] ?? []).map((fl) => ({ fl, owner: f.name })));
  const stray = all.find(({ fl }) => o[flagKey(fl)] !== undefined && !mine.has(flagKey(fl)));
  if (!stray) return;
  const { UsageError } = await import('../../core/errors.js');
  const owners = [...new Set(all.filter(({ fl }) => flagKey(fl) === flagKey(stray.fl)).map((x) => x.owner))].join(', ');
  const flag = stray.fl.flag.split(' ')[0];
  throw new UsageError(
    `${model} has no ${flag} for device ${verb} (${flag} is for ${owners}; the token is a ${family.name})`,
    'no-such-flag',
  );
}

/** The handler, or the error for a family that lists the verb but gives no code for it. */
async function handlerOf(family: DeviceFamily, verb: DeviceVerb, model: string): Promise<VerbHandler<Store>> {
  const { verbHandler } = await import('../../provision/families/index.js');
  const h = await verbHandler(family, verb);
  if (h) return h;
  const { UsageError } = await import('../../core/errors.js');
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
  const { familyForVerb } = await import('../../../drivers/registry.js');
  const family = await familyForVerb(verb, o.model);
  await checkFlags(verb, family, o.model, o);
  return { family, model: o.model, handler: await handlerOf(family, verb, o.model) };
}

/** The family of the device on `transport`, asked, then checked as --model's is. */
async function detectedFamily(verb: DeviceVerb, transport: ApduTransport, o: DeviceOpts) {
  const { checkVerb, detectFamily } = await import('../../../drivers/registry.js');
  const { family, model } = await detectFamily(transport);
  checkVerb(family, verb, model);
  await checkFlags(verb, family, model, o);
  return { family, model, handler: await handlerOf(family, verb, model) };
}

/**
 * `device <verb>`: `before` runs first (checks every family shares, e.g. the
 * --yes of a flash), then the device is opened, its family found, and the
 * family's handler called with one context.
 */
export async function runDeviceVerb(
  verb: DeviceVerb,
  o: DeviceOpts,
  cmd: Command,
  before?: (out: Output) => Promise<void>,
): Promise<void> {
  const given = await familyGiven(verb, o);
  const g = globalsOf(cmd);
  await withStore(cmd, async (store, out) => {
    await before?.(out);
    const p = await progress(out, Boolean(g.json));
    const output = {
      result: (v: unknown, t: string | (() => string)) => (p.stop(), out.result(v, t)),
      info: (m: string) => out.info(m),
      interactive: out.interactive,
    };
    const base = {
      options: o,
      yes: Boolean(g.yes),
      json: Boolean(g.json),
      output,
      step: p.step,
      stopProgress: p.stop,
      prompt: terminalPrompter,
      store,
    };
    // With --model the family's own checks run before the device is opened; after detection, once it has answered.
    const prepared = given
      ? await checksOf(given.family, verb, { ...base, family: given.family, model: given.model, modelGiven: true })
      : undefined;
    const transport = await openDevice(given?.family, o, out, p.step);
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
      p.stop();
      await transport.close();
    }
  });
}

/** Runs the family's checks for the verb (its provision side's `checks`), giving what they prepared. */
async function checksOf(family: DeviceFamily, verb: DeviceVerb, ctx: VerbCheckContext): Promise<unknown> {
  const { verbChecks } = await import('../../provision/families/index.js');
  return (await verbChecks(family, verb))?.(ctx);
}

/**
 * The provision side's table of families: each family's folder
 * (./<family>/index.ts) gives its verb handlers, checks and station flash
 * (./contract.ts); this list, plus the modules named in
 * TOKENSMITH_FAMILY_MODULES that export a `provisionFamily`, is the only place
 * that lists them. A family with no store-side code may carry its handlers in
 * its driver (`handlers`, drivers/family.ts).
 */
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeviceFamily, DeviceVerb, VerbHandler } from '../../../drivers/family.js';
import { FAMILY_MODULES_ENV } from '../../../drivers/registry.js';
import { DataError } from '../../core/errors.js';
import type { Store } from '../../store/types.js';
import type { ProvisionFamily } from './contract.js';
import { protectimus } from './protectimus/index.js';
import { molto2 } from './token2-molto2/index.js';
import { token2Nfc } from './token2-nfc/index.js';
import type { VerbCheckContext } from './verb-types.js';
import { yubikey } from './yubikey/index.js';

const BUILT_IN: readonly ProvisionFamily[] = [token2Nfc, molto2, protectimus, yubikey];

let loaded: readonly ProvisionFamily[] | null = null;

function checkShape(p: unknown, from: string): ProvisionFamily {
  const f = p as Partial<ProvisionFamily> | undefined;
  if (!f || typeof f.name !== 'string' || typeof f.verbs !== 'object' || f.verbs === null)
    throw new DataError(`${from} (named in ${FAMILY_MODULES_ENV}) exports a provisionFamily without a name and verbs`, {
      code: 'bad-family',
    });
  return f as ProvisionFamily;
}

/** The built-in families' provision code, then the `provisionFamily` of each module named in TOKENSMITH_FAMILY_MODULES. */
export async function provisionFamilies(): Promise<readonly ProvisionFamily[]> {
  if (loaded) return loaded;
  const list = [...BUILT_IN];
  for (const path of (process.env[FAMILY_MODULES_ENV] ?? '').split(delimiter).filter(Boolean)) {
    // The drivers registry reports a module that cannot be loaded; here only its provision side is read.
    const mod = (await import(pathToFileURL(resolve(path)).href).catch(() => ({}))) as { provisionFamily?: unknown };
    if (mod.provisionFamily !== undefined) list.push(checkShape(mod.provisionFamily, path));
  }
  loaded = list;
  return list;
}

/** The provision code of a driver family, if it has any. */
export async function provisionOf(family: Pick<DeviceFamily, 'name'>): Promise<ProvisionFamily | undefined> {
  return (await provisionFamilies()).find((p) => p.name === family.name);
}

/** The checks of `verb` on `family`, if it has any. */
export async function verbChecks(
  family: DeviceFamily,
  verb: DeviceVerb,
): Promise<((ctx: VerbCheckContext) => Promise<unknown>) | undefined> {
  return (await provisionOf(family))?.checks?.[verb];
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

/** The handler for `verb` on `family`: its own, then its provision code's, then (info only) its readInfo; undefined when it gives no code. */
export async function verbHandler(family: DeviceFamily, verb: DeviceVerb): Promise<VerbHandler<Store> | undefined> {
  const own = family.handlers?.[verb] as VerbHandler<Store> | undefined;
  return (
    own ??
    (await provisionOf(family))?.verbs[verb] ??
    (verb === 'info' && family.readInfo ? readInfoHandler(family) : undefined)
  );
}

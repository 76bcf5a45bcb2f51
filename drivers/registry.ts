/**
 * The one list of device families. Everything that names models (the
 * `--model` and `simulate` checks, `device models`, cassette show/verify,
 * the simulator runner) asks here. A new family is a folder with an
 * index.ts and one line in BUILT_IN.
 *
 * More families can be loaded at run time from the modules named in
 * TOKENSMITH_FAMILY_MODULES (paths separated by ':'), each default-exporting
 * a DeviceFamily (a module may instead, or also, export the family's provision
 * side as `provisionFamily`: src/provision/families/index.ts): tests use it to register a throw-away family without
 * changing any file; a site can use it for a device of its own.
 */
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataError, DeviceError, UsageError } from '../src/core/errors.js';
import type { ApduTransport } from '../src/transport/types.js';
import type { DeviceFamily, DeviceVerb } from './family.js';
import { protectimus } from './protectimus/index.js';
import { molto2 } from './token2-molto2/index.js';
import { token2Nfc } from './token2-nfc/index.js';
import { yubikey } from './yubikey/index.js';

const BUILT_IN: readonly DeviceFamily[] = [token2Nfc, molto2, protectimus, yubikey];

export const FAMILY_MODULES_ENV = 'TOKENSMITH_FAMILY_MODULES';

let loaded: DeviceFamily[] | null = null;

function checkShape(f: unknown, from: string): DeviceFamily {
  const d = f as Partial<DeviceFamily> | undefined;
  const ok =
    d &&
    typeof d.name === 'string' &&
    Array.isArray(d.models) &&
    d.models.length > 0 &&
    typeof d.describe === 'function' &&
    typeof d.replay === 'function' &&
    Array.isArray(d.operations) &&
    Array.isArray(d.verbs);
  if (!ok)
    throw new DataError(
      `${from} (named in ${FAMILY_MODULES_ENV}) does not default-export a device family (name, models, describe, operations, verbs, replay)`,
      { code: 'bad-family' },
    );
  return d as DeviceFamily;
}

/** Adds a family; a model name two families claim is refused. */
export function registerFamily(family: DeviceFamily, list: DeviceFamily[] = loaded ?? [...BUILT_IN]): void {
  const taken = new Set(list.flatMap((f) => f.models));
  const clash = family.models.find((m) => taken.has(m));
  if (clash)
    throw new DataError(`family ${family.name}: model '${clash}' already belongs to another family`, {
      code: 'bad-family',
    });
  list.push(family);
  loaded = list;
}

/** The built-in families, then those named in TOKENSMITH_FAMILY_MODULES. */
export async function families(): Promise<readonly DeviceFamily[]> {
  if (loaded) return loaded;
  const list = [...BUILT_IN];
  for (const path of (process.env[FAMILY_MODULES_ENV] ?? '').split(delimiter).filter(Boolean)) {
    const mod = (await import(pathToFileURL(resolve(path)).href).catch((e: Error) => {
      throw new DataError(
        `${path} (named in ${FAMILY_MODULES_ENV}) could not be loaded: ${e.message.split('\n')[0]}; fix the path or unset ${FAMILY_MODULES_ENV}`,
        { code: 'bad-family' },
      );
    })) as { default?: unknown; provisionFamily?: unknown };
    // A module may carry only a family's provision side (src/provision/families/index.ts reads it).
    if (mod.default === undefined && mod.provisionFamily !== undefined) continue;
    registerFamily(checkShape(mod.default, path), list);
  }
  loaded = list;
  return list;
}

export async function allModels(): Promise<string[]> {
  return (await families()).flatMap((f) => f.models);
}

/** The family a model (or a family's own name, for a recording whose exact model was never learnt) belongs to; an unknown one is a usage error that lists the known models. */
export async function familyOfModel(model: string, what = '--model'): Promise<DeviceFamily> {
  const list = await families();
  const hit = list.find((f) => f.models.includes(model)) ?? list.find((f) => f.name === model);
  if (!hit)
    throw new UsageError(
      `${what}: '${model}' is not a model tokensmith knows; use one of ${list.flatMap((f) => f.models).join(', ')}`,
      'bad-model',
    );
  return hit;
}

/** Without loading anything: the family of a model among the built-in and already loaded families (a recording names its frames with it). */
export function loadedFamilyOfModel(model: string | null | undefined): DeviceFamily | undefined {
  if (!model) return undefined;
  const list = loaded ?? BUILT_IN;
  return list.find((f) => f.models.includes(model)) ?? list.find((f) => f.name === model);
}

/**
 * The family that drives `model` when it supports `verb`: an unknown model is
 * a usage error listing the known ones, and a verb the family lacks is
 * refused by name (the family's own reason where it gives one, else exit 2).
 */
export async function familyForVerb(verb: DeviceVerb, model: string): Promise<DeviceFamily> {
  const family = await familyOfModel(model);
  checkVerb(family, verb, model);
  return family;
}

/** Refuses a verb `family` lacks, by name (its own reason where it gives one, else exit 2); `model` names the device in the message. */
export function checkVerb(family: DeviceFamily, verb: DeviceVerb, model: string): void {
  if (family.verbs.includes(verb)) return;
  throw (
    family.refuse?.(verb, model) ??
    new UsageError(
      `${model} has no '${verb}' (${family.name} supports ${family.verbs.map((v) => `device ${v}`).join(', ') || 'no device verbs'})`,
      'no-such-verb',
    )
  );
}

/** The built-in families, without loading any module: what the CLI registers its options from. */
export function builtInFamilies(): readonly DeviceFamily[] {
  return BUILT_IN;
}

/** The families detection tries, in order: the families with a `detect` (it runs on a PC/SC reader), lowest `detectOrder` first (then registry order). */
export async function detectionOrder(): Promise<DeviceFamily[]> {
  const list = (await families()).filter((f) => f.detect);
  return list
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (a.f.detectOrder ?? 100) - (b.f.detectOrder ?? 100) || a.i - b.i)
    .map(({ f }) => f);
}

export interface Detected {
  family: DeviceFamily;
  /** The model the device told, or the family's name when it does not tell its exact model. */
  model: string;
}

/**
 * Asks the device on `transport` what it is: each family's harmless probe in
 * detection order, the first that recognises the answer wins. A device no
 * family recognises is a device error naming every family tried and what
 * each saw (exit 3); --model skips this.
 */
export async function detectFamily(transport: ApduTransport): Promise<Detected> {
  const tried: string[] = [];
  for (const family of await detectionOrder()) {
    try {
      const model = await family.detect!(transport);
      if (model) return { family, model };
      tried.push(`${family.name} (not its answer)`);
    } catch (e) {
      // A probe that fails (a removed card is the caller's to report) says only "not this family".
      if ((e as { code?: string }).code === 'card-removed') throw e;
      tried.push(`${family.name} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  throw new DeviceError(
    `no family answered: the device on "${transport.readerName}" is none of the families tried: ${tried.join('; ') || 'none can detect'}; if you know its model, say it with --model (\`tokensmith device models\` lists them)`,
    { code: 'unknown-device' },
  );
}

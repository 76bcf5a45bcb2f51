/**
 * The station's flash form as a TokenFlasher for any family: the model (when
 * chosen) is checked against the registry up front, and each token on the
 * reader is flashed by its own family (told by the model, or else by what the
 * token answers, as the CLI tells it), through the family's `station` flash
 * (src/provision/families/<family>/index.ts). A family that cannot be flashed is
 * refused with its own reason. No family is named here.
 */
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import type { ApduTransport } from '../transport/types.js';
import type { DeviceFamily } from '../../drivers/family.js';
import { familyForVerb, families } from '../../drivers/registry.js';
import { detectedFamily } from './device-session.js';
import type { BatchTokenContext, FlashedToken, TokenFlasher } from './flash-batch.js';
import type { FamilyFormField, FlashForm, ProvisionFamily, StationFlash } from './families/contract.js';
import { provisionFamilies, provisionOf } from './families/index.js';

export type { FlashForm } from './families/contract.js';

const FORM_KEYS = [
  'model',
  'algorithm',
  'period',
  'digits',
  'displayTimeout',
  'seed',
  'resource',
  'user',
  'profile',
  'title',
  'customerKey',
] as const;

const blank = (v: unknown) => (v === '' || v === undefined || v === null ? undefined : String(v));

/** Form values as they came over the socket -> a FlashForm (empty fields dropped). */
export function flashFormOf(raw: Record<string, unknown>): FlashForm {
  const form: FlashForm = { force: raw.force === true || raw.force === 'true' };
  for (const k of FORM_KEYS) form[k] = blank(raw[k]);
  return form;
}

export interface StationModel {
  model: string;
  family: string;
  /** Whether the station (and `device flash`) can write a seed to it. */
  flashable: boolean;
  /** Why not, in the family's own words. */
  why?: string;
  /** The form's extra fields for this model, and the digit counts it can show. */
  fields: FamilyFormField[];
  digits: number[];
  /** The products sold as this model. */
  products: string[];
}

function notFlashedHere(family: DeviceFamily, model: string): string {
  if (!family.verbs.includes('flash')) return family.refuse?.('flash', model)?.message ?? `${family.name} has no flash`;
  return `the ${family.name} family gives tokensmith no code to flash it`;
}

/** Every model of the registry, and whether it can be flashed here (the station's model select). */
export async function stationModels(): Promise<StationModel[]> {
  const out: StationModel[] = [];
  for (const f of await families()) {
    const station = (await provisionOf(f))?.station;
    for (const model of f.models) {
      const why = station && f.verbs.includes('flash') ? undefined : notFlashedHere(f, model);
      const shape = {
        fields: [...(station?.fields ?? [])],
        digits: [...(station?.digits ?? [6])],
        products: station?.products?.(model) ?? [],
      };
      out.push({ model, family: f.name, flashable: why === undefined, ...(why ? { why } : {}), ...shape });
    }
  }
  return out;
}

/** The families a form without a model asks for: each one's flasher, built now so a bad setting is refused before any token. */
async function askedFlashers(form: FlashForm, only: FamilyFilter): Promise<Map<string, TokenFlasher | Error>> {
  const out = new Map<string, TokenFlasher | Error>();
  for (const p of await provisionFamilies()) {
    const station: StationFlash | undefined = p.station;
    if (!station || !only(p)) continue;
    if (station.asked?.(form) === false) out.set(p.name, station.notAsked?.('') ?? new Error(p.name));
    else out.set(p.name, await station.flasher(form));
  }
  return out;
}

/** The error for a token of a family the station does not flash (or the form did not ask for). */
async function refusal(told: { family: DeviceFamily; model: string }, transport: ApduTransport): Promise<Error> {
  const station = (await provisionOf(told.family))?.station;
  if (station?.notAsked) return station.notAsked(transport.readerName);
  if (!told.family.verbs.includes('flash'))
    return told.family.refuse?.('flash', told.model) ?? new UsageError(notFlashedHere(told.family, told.model));
  return new UsageError(
    `the token on "${transport.readerName}" is a ${told.model} (${told.family.name}): the station does not flash it; use \`tokensmith device flash --model ${told.model}\``,
    'wrong-family',
  );
}

/** A token of a family `only` leaves out (a CLI batch without --model): refused with what the batch flashes, not the station's advice. */
async function refuseLeftOut(
  told: { family: DeviceFamily; model: string },
  transport: ApduTransport,
  only: FamilyFilter,
): Promise<void> {
  const p = await provisionOf(told.family);
  if (!p || only(p)) return;
  const taken = (await provisionFamilies()).filter(only).map((f) => f.batch?.what ?? f.name);
  throw new UsageError(
    `the token on "${transport.readerName}" is a ${told.model} (${told.family.name}): a batch without --model flashes ${taken.join('; ')}; flash this one with \`tokensmith device flash --model ${told.model}\``,
    'wrong-family',
  );
}

/** Which families a form without a model may flash (a CLI batch: those that batch this way); default all. */
export type FamilyFilter = (p: ProvisionFamily) => boolean;

/** A checked form -> the flasher that dispatches each token to its family. Usage errors come before any token is touched. */
export async function formFlasher(form: FlashForm, only: FamilyFilter = () => true): Promise<TokenFlasher> {
  const family = form.model ? await familyForVerb('flash', form.model) : null;
  const station = family ? (await provisionOf(family))?.station : undefined;
  if (family && !station) throw new UsageError(`${form.model}: ${notFlashedHere(family, form.model!)}`, 'no-such-verb');
  const flashers = family ? new Map([[family.name, await station!.flasher(form)]]) : await askedFlashers(form, only);
  return {
    format: family?.name ?? 'mixed',
    async flash(store: Store, transport: ApduTransport, ctx: BatchTokenContext): Promise<FlashedToken> {
      // Without a model, the token on the reader says which family it is: the device session's detect and checks, as `device flash` runs them.
      const told = family ? { family, model: form.model ?? family.name } : await detectedFamily('flash', transport, {});
      const flasher = flashers.get(told.family.name);
      if (!family) await refuseLeftOut(told, transport, only);
      if (!flasher || flasher instanceof Error) throw await refusal(told, transport);
      return flasher.flash(store, transport, ctx);
    },
  };
}

/**
 * The station's flash form as a TokenFlasher for any family: the model (when
 * chosen) is checked against the registry up front, and each token on the
 * reader is flashed by its own family (told by the model, or else by what the
 * token answers, as the CLI tells it). A family that cannot be flashed is refused
 * with its own reason (Protectimus: the seed write is not public).
 */
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import type { ApduTransport } from '../transport/types.js';
import { seedWriteNotPublic } from '../../drivers/protectimus/driver.js';
import { detectFamily, familyForVerb, families } from '../../drivers/registry.js';
import { isProtectimusModel } from '../../drivers/protectimus/protocol.js';
import type { BatchTokenContext, FlashedToken, TokenFlasher } from './flash-batch.js';
import { molto2Flasher, parseProfileFlashInput } from './families/token2-molto2/profiles.js';
import { parseFlashInput, token2Flasher } from './families/token2-nfc/flash.js';

/** The form as the page sends it (strings; force a boolean). */
export interface FlashForm {
  model?: string;
  algorithm?: string;
  period?: string;
  digits?: string;
  displayTimeout?: string;
  seed?: string;
  resource?: string;
  user?: string;
  force?: boolean;
  profile?: string;
  title?: string;
  customerKey?: string;
}

/** The families whose flash tokensmith itself implements. */
const FLASHED_HERE = ['token2-nfc', 'token2-molto2'];

const blank = (v: unknown) => (v === '' || v === undefined || v === null ? undefined : String(v));

/** Form values as they came over the socket -> a FlashForm (empty fields dropped). */
export function flashFormOf(raw: Record<string, unknown>): FlashForm {
  const keys = [
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
  const form: FlashForm = { force: raw.force === true || raw.force === 'true' };
  for (const k of keys) form[k] = blank(raw[k]);
  return form;
}

export interface StationModel {
  model: string;
  family: string;
  /** Whether the station (and `device flash`) can write a seed to it. */
  flashable: boolean;
  /** Why not, in the family's own words. */
  why?: string;
}

/** Every model of the registry, and whether it can be flashed here (the station's model select). */
export async function stationModels(): Promise<StationModel[]> {
  const out: StationModel[] = [];
  for (const f of await families()) {
    for (const model of f.models) {
      let why: string | undefined;
      if (!f.verbs.includes('flash')) why = f.refuse?.('flash', model)?.message ?? `${f.name} has no flash`;
      else if (!FLASHED_HERE.includes(f.name)) why = `the ${f.name} family gives tokensmith no code to flash it`;
      out.push({ model, family: f.name, flashable: why === undefined, ...(why ? { why } : {}) });
    }
  }
  return out;
}

/** A checked form -> the flasher that dispatches each token to its family. Usage errors come before any token is touched. */
export async function formFlasher(form: FlashForm): Promise<TokenFlasher> {
  const family = form.model ? await familyForVerb('flash', form.model) : null;
  if (family && !FLASHED_HERE.includes(family.name))
    throw new UsageError(
      `${form.model}: the ${family.name} family gives tokensmith no code to flash it`,
      'no-such-verb',
    );
  const wantsMolto2 = family?.name === 'token2-molto2' || (!family && form.profile !== undefined);
  const token2 = family?.name === 'token2-molto2' ? null : token2Input(form);
  const molto2 = wantsMolto2 ? molto2Flasher(parseProfileFlashInput({ ...form })) : null;
  return {
    format: family?.name ?? 'mixed',
    async flash(store: Store, transport: ApduTransport, ctx: BatchTokenContext): Promise<FlashedToken> {
      // Without a model, the token on the reader says which family it is (as `device flash` asks it).
      const told = family ? { family, model: form.model ?? family.name } : await detectFamily(transport);
      if (told.family.name === 'protectimus')
        throw seedWriteNotPublic(isProtectimusModel(told.model) ? told.model : 'protectimus-slim');
      if (told.family.name === 'token2-molto2') {
        if (!molto2)
          throw new UsageError(
            `the token on "${transport.readerName}" is a Molto2: choose the model token2-molto2 and the profile to write`,
            'profile-needed',
          );
        return molto2.flash(store, transport, ctx);
      }
      // Any other family detection tells (a YubiKey) is never driven as a Token2 card.
      if (told.family.name !== 'token2-nfc')
        throw new UsageError(
          `the token on "${transport.readerName}" is a ${told.model} (${told.family.name}): the station does not flash it; use \`tokensmith device flash --model ${told.model}\``,
          'wrong-family',
        );
      if (!token2)
        throw new UsageError(
          `the token on "${transport.readerName}" is a Token2 NFC token, not a ${form.model}`,
          'wrong-family',
        );
      return token2.flash(store, transport, ctx);
    },
  };
}

function token2Input(form: FlashForm): TokenFlasher {
  if (form.digits !== undefined && Number(form.digits) !== 6)
    throw new UsageError(`digits: Token2 NFC tokens show 6 digits; ${form.digits} is not possible`, 'bad-digits');
  return token2Flasher(parseFlashInput({ ...form }));
}

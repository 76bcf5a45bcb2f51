/**
 * `device flash --batch`, the family side: the family of --model (or, without
 * one, each token's own family, told by what it answers as the station's
 * batch tells it), the settings it asks for, and the flasher each token runs
 * through. The loop, its counts and its records are the flash-batch service's
 * (./flash-batch.ts), the same the station's batch runs. No family is named here.
 */
import type { DeviceFamily } from '../../drivers/family.js';
import { UsageError } from '../core/errors.js';
import type { DeviceOpts, SessionBase } from './device-session.js';
import type { BatchWay, ProvisionFamily } from './families/contract.js';
import type { TokenFlasher } from './flash-batch.js';

/** The --model's family and how it batches. */
export interface BatchFamily {
  family: DeviceFamily;
  model: string;
  way: BatchWay;
}

/** With --model: its family and how it batches, checked (its flags too) before the store or any reader is opened; a family without a batch is refused by name. */
export async function batchFamilyOf(o: DeviceOpts): Promise<BatchFamily | undefined> {
  if (typeof o.model !== 'string') return undefined;
  const { familyForVerb } = await import('../../drivers/registry.js');
  const { provisionFamilies, provisionOf } = await import('./families/index.js');
  const family = await familyForVerb('flash', o.model);
  const way = (await provisionOf(family))?.batch;
  if (!way || (o.users !== undefined && !way.users)) {
    const ways = (await provisionFamilies()).flatMap((p) => (p.batch ? [p.batch.what] : []));
    throw new UsageError(
      `${o.model} has no ${way ? '--users' : '--batch'} (--batch flashes ${ways.join('; ')}; --users goes with a batch that assigns as it flashes)`,
      'no-such-flag',
    );
  }
  const { familyGiven } = await import('./device-session.js');
  await familyGiven('flash', o);
  return { family, model: o.model, way };
}

/** --users assigns within a Resource: checked once the settings are complete (a person at a terminal may have just named it). */
function usersNeedResource(options: DeviceOpts): DeviceOpts {
  if (options.users && !options.resource)
    throw new UsageError('--users needs --resource: the tokens are assigned to users within a Resource');
  return options;
}

/** The families a batch without --model flashes: those whose tokens come as cards on the reader. */
const onTheReader = (p: ProvisionFamily): boolean => p.batch?.loop === 'flasher' && p.station !== undefined;

/**
 * The flasher of a batch, built before any token is touched (a bad setting is a
 * usage error here): the --model's family (its settings, its flash checks, its
 * batch flasher or else its station flasher), or without a model each token's
 * own family among those that batch on the reader.
 */
export async function batchFlasher(given: BatchFamily | undefined, base: SessionBase): Promise<TokenFlasher> {
  const { verbChecks, provisionFamilies } = await import('./families/index.js');
  const { flashFormOf, formFlasher } = await import('./flash-families.js');
  if (given) {
    const options = usersNeedResource(given.way.settings ? await given.way.settings(base) : base.options);
    const ctx = { ...base, options, family: given.family, model: given.model, modelGiven: true };
    const prepared = await (await verbChecks(given.family, 'flash'))?.(ctx);
    if (given.way.flasher) return given.way.flasher({ ...ctx, prepared });
    return formFlasher(flashFormOf(options));
  }
  const batching = (await provisionFamilies()).filter(onTheReader);
  let options = base.options;
  // Each family completes the settings in turn (what one asked for, the next finds given).
  for (const p of batching) if (p.batch?.settings) options = await p.batch.settings({ ...base, options });
  return formFlasher(flashFormOf(usersNeedResource(options)), (p) => batching.includes(p));
}

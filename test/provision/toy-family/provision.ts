/**
 * The same throw-away family's provision side, as
 * src/provision/families/toy/index.ts would be: `device info` reads the store,
 * and its station flash (the one flash path a batch runs too) writes a fresh
 * seed and registers the token.
 */
import { randomBytes } from 'node:crypto';
import { encodeBase32 } from '../../../src/core/codecs.js';
import { DeviceError, UsageError } from '../../../src/core/errors.js';
import type { ProvisionFamily } from '../../../src/provision/families/contract.js';
import type { DeviceVerbContext } from '../../../src/provision/families/verb-types.js';
import type { BatchTokenContext, TokenFlasher } from '../../../src/provision/flash-batch.js';
import type { Store } from '../../../src/store/types.js';
import type { ApduTransport } from '../../../src/transport/types.js';
import { addToken, viewToken } from '../../../src/provision/tokens.js';
import { seedCommand, toySerial } from './driver.js';

async function info(ctx: DeviceVerbContext): Promise<void> {
  const serial = await toySerial(ctx.transport);
  const stored = serial ? await ctx.store.tokens.findOne('Toy', serial) : null;
  ctx.output.result({ serial, inStore: stored !== null, state: stored?.state ?? null }, `toy ${serial}`);
}

/** Writes `seed` to the toy on `transport` and registers it; refused for a token the store already holds. */
async function flashToy(store: Store, transport: ApduTransport, seed: Uint8Array, ctx: BatchTokenContext) {
  const serial = await toySerial(transport);
  if (!serial) throw new DeviceError('not a toy', { code: 'wrong-family' });
  if (await store.tokens.findOne('Toy', serial))
    throw new UsageError(`${serial} has a seed in the store`, 'seed-present');
  if (ctx.confirm && !(await ctx.confirm(serial, `toy ${serial}`))) throw new UsageError('cancelled', 'cancelled');
  const r = await transport.transmit(seedCommand(seed));
  if (r[r.length - 2] !== 0x90) throw new DeviceError('the toy refused the seed', { code: 'status-word' });
  const token = await addToken(store, {
    serial,
    secret: encodeBase32(seed),
    manufacturer: 'Toy',
    model: 'toy-token',
    kind: 'programmable',
  });
  const batch = ctx.batchId ?? -1;
  return { serial, batch, model: 'toy-token', token: await viewToken(store, token) };
}

const flasher: TokenFlasher = {
  format: 'toy',
  flash: (store, transport, ctx) => flashToy(store, transport, new Uint8Array(randomBytes(20)), ctx),
};

/** `device flash`, with --record <cassette> as the built-in families do it: the session recorded, the seed redacted. */
async function flash(ctx: DeviceVerbContext): Promise<void> {
  const seed = new Uint8Array(randomBytes(20));
  const record = typeof ctx.options.record === 'string' ? ctx.options.record : undefined;
  const { startRecording } = await import('../../../src/provision/cassettes.js');
  const session = record
    ? startRecording(ctx.transport, record, {
        source: 'simulator',
        operation: 'flash',
        params: {},
        seed,
        model: 'toy-token',
      })
    : null;
  const r = await flashToy(ctx.store, session?.transport ?? ctx.transport, seed, {});
  session?.save({ ok: true });
  ctx.output.result(r, `flashed ${r.serial}`);
}

export const provisionFamily: ProvisionFamily = {
  name: 'toy',
  verbs: {
    info,
    flash,
  },
  station: { flasher: async () => flasher },
  // `device flash --batch` runs the station's flasher over one token after another (the one flash path).
  batch: { loop: 'flasher', users: false, what: 'toy tokens' },
};

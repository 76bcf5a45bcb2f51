/**
 * `device info|flash|sync|verify` for the single-profile Token2 NFC tokens.
 * The model is read from the serial unless --model names it.
 */
import { isToken2Model, type Token2Model } from '../../../../drivers/token2-nfc/protocol.js';
import { TokensmithError, UsageError } from '../../../core/errors.js';
import { optString, signed, type DeviceVerbContext, type FamilyVerbHandlers } from '../verb-types.js';

/** Only a --model given on the command line overrides what the serial says. */
function givenModel(ctx: DeviceVerbContext): Token2Model | undefined {
  return ctx.modelGiven && isToken2Model(ctx.model) ? ctx.model : undefined;
}

async function info(ctx: DeviceVerbContext): Promise<void> {
  const { deviceInfo } = await import('./device.js');
  const v = await deviceInfo(ctx.store, ctx.transport, { model: givenModel(ctx), onStep: ctx.step });
  ctx.output.result(v, () =>
    [
      `serial        ${v.serial}`,
      `model         ${v.model}${v.product ? ` (${v.product})` : ''}`,
      `reader        ${v.reader}`,
      `token clock   ${v.deviceTime}`,
      `offset        ${signed(v.offsetSeconds)} s from this computer`,
      `sync          ${v.wipesSeedOnSync ? 'wipes the seed (a sync writes the seed again)' : 'keeps the seed'}`,
      `in store      ${v.inStore ? `yes, ${v.state}` : 'no'}`,
    ].join('\n'),
  );
}

/** The flash settings: the options, and for a person at a terminal without --yes, what they pick (a batch asks too). */
export async function flashSettings(
  ctx: Pick<DeviceVerbContext, 'options' | 'output' | 'yes' | 'stopProgress' | 'prompt'>,
): Promise<Record<string, string | boolean | undefined>> {
  const raw = { ...ctx.options };
  if (raw.digits !== undefined && Number(raw.digits) !== 6)
    throw new UsageError(`--digits: Token2 NFC tokens show 6 digits; ${raw.digits} is not possible`, 'bad-digits');
  if (!ctx.output.interactive || ctx.yes) return raw;
  ctx.stopProgress();
  const { select, input } = ctx.prompt;
  raw.algorithm ??= await select({ message: 'Algorithm', choices: [{ value: 'sha1' }, { value: 'sha256' }] });
  raw.period ??= await select({
    message: 'Time step',
    choices: [
      { name: '30 s', value: '30' },
      { name: '60 s', value: '60' },
    ],
  });
  raw.displayTimeout ??= await select({
    message: 'Display timeout',
    choices: ['15', '30', '60', '120'].map((v) => ({ name: `${v} s`, value: v })),
    default: '30',
  });
  if (raw.resource === undefined)
    raw.resource = (await input({ message: 'Resource (empty: none)' })).trim() || undefined;
  if (raw.resource && raw.user === undefined)
    raw.user = (await input({ message: 'Assign to user (empty: nobody)' })).trim() || undefined;
  return raw;
}

async function flash(ctx: DeviceVerbContext): Promise<void> {
  const raw = await flashSettings(ctx);
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  const { parseFlashInput, flashToken } = await import('./flash.js');
  const input = parseFlashInput({
    seed: str('seed'),
    algorithm: str('algorithm'),
    period: str('period'),
    displayTimeout: str('displayTimeout'),
    model: givenModel(ctx),
    resource: str('resource'),
    user: str('user'),
    force: Boolean(raw.force),
  });
  const record = optString(ctx, 'record');
  const session = record
    ? (await import('../../cassettes.js')).startRecording(ctx.transport, record, {
        source: /virtual pcd/i.test(ctx.transport.readerName) ? 'simulator' : 'hardware',
        operation: 'flash',
        params: {
          algorithm: input.algorithm,
          period: input.period,
          displayTimeout: input.displayTimeout,
          ...(input.model ? { model: input.model } : {}),
        },
        seed: input.seed ?? null,
        // The family until the token says its model (a failed flash may never learn it).
        model: input.model ?? 'token2-nfc',
      })
    : null;
  const interactive = ctx.output.interactive && !ctx.yes;
  try {
    const r = await flashToken(ctx.store, session?.transport ?? ctx.transport, input, {
      now: session?.clock.now,
      onStep: ctx.step,
      confirm: interactive
        ? async (i, existing) => {
            ctx.stopProgress();
            return ctx.prompt.confirm({
              message: `Write a new seed to ${i.product ?? i.model} ${i.serial}${existing ? ` (in the store: ${existing.state})` : ''}? Any seed it holds is lost.`,
              default: true,
            });
          }
        : undefined,
    });
    session?.save({ ok: true }, { model: r.model });
    const where = r.token.user
      ? `, assigned to ${r.token.user} in ${r.token.resource}`
      : r.token.resource
        ? `, in ${r.token.resource}`
        : '';
    ctx.output.result(
      r,
      `flashed ${r.serial} (${r.product ?? r.model}) on "${r.reader}": ${r.algorithm}, ${r.period} s, display ${r.displayTimeout} s; ` +
        `its clock was ${signed(r.clockOffsetBefore)} s off, now ${signed(r.clockOffsetAfter)} s; state ${r.token.state}, batch ${r.batch}${where}`,
    );
  } catch (e) {
    session?.save({ ok: false, error: e instanceof TokensmithError ? e.code : 'failure' });
    throw e;
  }
}

async function sync(ctx: DeviceVerbContext): Promise<void> {
  const [algorithm, period, displayTimeout] = [
    optString(ctx, 'algorithm'),
    optString(ctx, 'period'),
    optString(ctx, 'displayTimeout'),
  ];
  const { parseFlashInput } = await import('./flash.js');
  const { syncDevice } = await import('./device.js');
  const checked = algorithm || period || displayTimeout ? parseFlashInput({ algorithm, period, displayTimeout }) : null;
  const r = await syncDevice(ctx.store, ctx.transport, {
    model: givenModel(ctx),
    onStep: ctx.step,
    algorithm: algorithm ? checked!.algorithm : undefined,
    period: period ? checked!.period : undefined,
    displayTimeout: displayTimeout ? checked!.displayTimeout : undefined,
  });
  ctx.output.result(
    r,
    `synced ${r.serial} (${r.product ?? r.model}): clock was ${signed(r.offsetBefore)} s off, now ${signed(r.offsetAfter)} s${r.seedRewritten ? '; the seed was written again from the store (this model wipes it on a clock set)' : ''}`,
  );
}

async function verify(ctx: DeviceVerbContext): Promise<void> {
  let code = optString(ctx, 'code');
  if (code === undefined) {
    if (!ctx.output.interactive || ctx.yes) throw new UsageError('--code is missing: give the code the token displays');
    ctx.stopProgress();
    code = await ctx.prompt.input({ message: 'Code on the display' });
  }
  const { verifyDevice } = await import('./device.js');
  const r = await verifyDevice(ctx.store, ctx.transport, code, {
    model: givenModel(ctx),
    window: Number(optString(ctx, 'window') ?? 10),
    onStep: ctx.step,
  });
  ctx.output.result(
    r,
    `code ${r.code} from ${r.serial} matches its stored seed; drift ${signed(r.driftSteps!)} step(s)`,
  );
}

export const token2NfcVerbs: FamilyVerbHandlers = { info, flash, sync, verify };

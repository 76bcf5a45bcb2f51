/**
 * `device info|flash --model yubikey-otp`: OATH-HOTP in a YubiKey OTP slot,
 * over USB HID (the family's `open`) or, with --reader, CCID. Store side in
 * ../yubikey-otp.ts. The access code is asked for (or read) once, before the
 * key is opened, and is never logged.
 */
import { readFileSync } from 'node:fs';
import { TokensmithError, UsageError } from '../../../core/errors.js';
import type { ApduTransport } from '../../../transport/types.js';
import type { OtpLink } from '../../../../drivers/yubikey/otp/link.js';
import type { RecordSession } from '../../cassettes.js';
import type { BatchTokenContext } from '../../flash-batch.js';
import type { YubikeyOtpInput, YubikeyOtpResult } from './otp.js';
import type { DeviceVerbContext, FamilyVerbChecks, FamilyVerbHandlers, VerbCheckContext } from '../verb-types.js';

/** Over HID when no --reader was given (the family's `open` made the same choice). */
export const overHid = (options: DeviceVerbContext['options']): boolean => typeof options.reader !== 'string';

async function accessCodeOf(ctx: VerbCheckContext): Promise<Uint8Array | undefined> {
  const o = ctx.options;
  const { parseAccessCode } = await import('./otp.js');
  if (o.accessCode !== undefined && o.accessCodeFile !== undefined)
    throw new UsageError('give --access-code or --access-code-file, not both');
  if (typeof o.accessCodeFile === 'string')
    return parseAccessCode(readFileSync(o.accessCodeFile, 'utf8'), '--access-code-file');
  if (o.accessCode === '-') {
    if (!ctx.output.interactive)
      throw new UsageError('--access-code -: no terminal to ask in; use --access-code-file', 'confirm-needed');
    ctx.stopProgress();
    return parseAccessCode(await ctx.prompt.password({ message: 'Access code of the slot (12 hex digits)' }));
  }
  return typeof o.accessCode === 'string' ? parseAccessCode(o.accessCode) : undefined;
}

/** The flash settings and, without --yes at a terminal, the person's go-ahead: all before the key is opened. */
export async function otpFlashInput(ctx: VerbCheckContext): Promise<YubikeyOtpInput> {
  const o = ctx.options;
  const s = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const { parseYubikeyOtpInput } = await import('./otp.js');
  const input = parseYubikeyOtpInput({
    slot: s('slot'),
    digits: s('digits'),
    counter: s('counter'),
    seed: s('seed'),
    tokenId: s('tokenId'),
    accessCode: await accessCodeOf(ctx),
    force: Boolean(o.force),
    resource: s('resource'),
  });
  if (!ctx.yes && !o.force) {
    if (!ctx.output.interactive)
      throw new UsageError(
        'device flash programs a YubiKey slot: confirm with --yes (no terminal to ask in)',
        'confirm-needed',
      );
    ctx.stopProgress();
    if (
      !(await ctx.prompt.confirm({
        message: `Program OATH-HOTP (${input.digits} digits, counter ${input.counter}) into slot ${input.slot}?`,
        default: true,
      }))
    )
      throw new UsageError('cancelled; nothing was written', 'cancelled');
  }
  return input;
}

export const otpChecks: FamilyVerbChecks = { flash: otpFlashInput };

/** The OTP link over the opened device: HID reports through the frames transport, or the OTP application over CCID. */
export async function otpLink(transport: ApduTransport, hid: boolean): Promise<OtpLink> {
  const { CcidOtpLink, HidOtpLink } = await import('../../../../drivers/yubikey/otp/link.js');
  if (!hid) return new CcidOtpLink(transport);
  const { framesAsPort } = await import('../../../transport/hid-reports.js');
  return new HidOtpLink(framesAsPort(transport, (ms) => new Promise((r) => setTimeout(r, ms))));
}

async function recording(
  ctx: DeviceVerbContext,
  path: string,
  params: Record<string, unknown>,
  seed: Uint8Array | null,
): Promise<RecordSession> {
  const { startRecording } = await import('../../cassettes.js');
  const { isOtpSeedBearing } = await import('../../../../drivers/yubikey/otp/index.js');
  // An access code is a secret too: with one, the write is redacted even for a labelled test seed.
  const keep = (f: Uint8Array) => (f.length === 8 ? 0 : 5);
  const source = /virtual pcd|simulator/i.test(ctx.transport.readerName) ? 'simulator' : 'hardware';
  return startRecording(ctx.transport, path, {
    source,
    operation: 'flash',
    params,
    seed,
    model: 'yubikey-otp',
    redaction: { isSeedBearing: isOtpSeedBearing, keep, always: Boolean(params.accessCode) },
  });
}

export const describeOtpResult = (r: YubikeyOtpResult): string =>
  `programmed slot ${r.slot} of YubiKey ${r.deviceSerial} (firmware ${r.firmware}, ${r.link.toUpperCase()}): OATH-HOTP ${r.digits} digits from counter ${r.counter}${r.overwroteSlot ? ', replacing what the slot held' : ''}; registered as ${r.serial}, state ${r.token.state}, batch ${r.batch}`;

/** One key programmed over ctx.transport (recorded with --record); the batch calls this once per key, with its `confirm`. */
export async function flashOtpKey(
  ctx: DeviceVerbContext,
  input: YubikeyOtpInput,
  confirm?: BatchTokenContext['confirm'],
): Promise<YubikeyOtpResult> {
  const { flashYubikeyOtp } = await import('./otp.js');
  const { YubiOtpDriver } = await import('../../../../drivers/yubikey/otp/driver.js');
  const { testSeedLabel } = await import('../../cassettes.js');
  const hid = overHid(ctx.options);
  const params = {
    slot: input.slot,
    digits: input.digits,
    counter: input.counter,
    tokenIdHex: input.tokenId ? Buffer.from(input.tokenId).toString('hex') : '',
    accessCode: Boolean(input.accessCode),
    link: hid ? 'hid' : 'ccid',
  };
  const record = typeof ctx.options.record === 'string' ? ctx.options.record : undefined;
  const session = record ? await recording(ctx, record, params, input.seed ?? null) : null;
  try {
    const r = await flashYubikeyOtp(
      ctx.store,
      new YubiOtpDriver(await otpLink(session?.transport ?? ctx.transport, hid)),
      input,
      { reader: ctx.transport.readerName, confirm },
    );
    session?.save({ ok: true });
    if (session && !testSeedLabel(input.seed))
      ctx.output.info('the cassette holds no seed: its key-bearing frames were redacted');
    return r;
  } catch (e) {
    session?.save({ ok: false, error: e instanceof TokensmithError ? e.code : 'failure' });
    throw e;
  }
}

async function flash(ctx: DeviceVerbContext): Promise<void> {
  const input = (ctx.prepared as YubikeyOtpInput | undefined) ?? (await otpFlashInput(ctx));
  const r = await flashOtpKey(ctx, input);
  ctx.output.result(r, describeOtpResult(r));
}

/** `device info --model yubikey-otp`: firmware, serial, which slots are configured, and what the store holds for them. */
async function info(ctx: DeviceVerbContext): Promise<void> {
  const { YubiOtpDriver } = await import('../../../../drivers/yubikey/otp/driver.js');
  const { slotSerial, YUBICO_MANUFACTURER } = await import('./otp.js');
  const i = await new YubiOtpDriver(await otpLink(ctx.transport, overHid(ctx.options))).readInfo();
  const inStore = async (slot: 1 | 2) =>
    i.serial === null
      ? null
      : ((await ctx.store.tokens.findOne(YUBICO_MANUFACTURER, slotSerial(i.serial, slot)))?.state ?? null);
  const slots = ([1, 2] as const).map((n) => ({
    slot: n,
    configured: n === 1 ? i.status.slot1Configured : i.status.slot2Configured,
  }));
  const v = {
    model: 'yubikey-otp',
    reader: ctx.transport.readerName,
    link: i.link,
    serial: i.serial,
    firmware: i.status.version.join('.'),
    sequence: i.status.sequence,
    slots: await Promise.all(slots.map(async (s) => ({ ...s, inStore: await inStore(s.slot) }))),
  };
  ctx.output.result(v, () =>
    [
      `model         ${v.model}`,
      `reader        ${v.reader} (${v.link.toUpperCase()})`,
      `serial        ${v.serial ?? 'hidden'}`,
      `firmware      ${v.firmware}`,
      ...v.slots.map(
        (s) =>
          `slot ${s.slot}        ${s.configured ? 'configured' : 'empty'}${s.inStore ? `, in store: ${s.inStore}` : ''}`,
      ),
    ].join('\n'),
  );
}

export const otpVerbs: FamilyVerbHandlers = { info, flash };

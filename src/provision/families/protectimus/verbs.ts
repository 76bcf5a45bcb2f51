/**
 * `device info|sync|verify` for the Protectimus Slim NFC and Flex (flash is
 * refused by the family: the seed-write command is not public).
 */
import { isProtectimusModel, type ProtectimusModel } from '../../../../drivers/protectimus/protocol.js';
import { optString, signed, type DeviceVerbContext, type FamilyVerbHandlers } from '../verb-types.js';

/** The frame protocol does not tell the Slim from the Flex: --model does, else the Slim (the one the protocol was documented on). */
function modelOf(ctx: DeviceVerbContext): ProtectimusModel {
  return isProtectimusModel(ctx.model) ? ctx.model : 'protectimus-slim';
}

async function info(ctx: DeviceVerbContext): Promise<void> {
  const { protectimusInfo } = await import('./service.js');
  const v = await protectimusInfo(ctx.store, ctx.transport, {
    model: modelOf(ctx),
    serial: optString(ctx, 'serial'),
    onStep: ctx.step,
  });
  ctx.output.result(v, () =>
    [
      `model           ${v.model}`,
      `reader          ${v.reader}`,
      `UID             ${v.uid ?? '-'}`,
      `hardware scheme ${v.hardwareScheme}`,
      `firmware        ${v.firmware}`,
      `clock (RTC)     ${v.rtc ? 'yes' : 'no'}`,
      `interval        ${v.interval ?? 'unknown'} s`,
      `in store        ${v.inStore ? `${v.serial}, ${v.state}` : 'no'}`,
    ].join('\n'),
  );
}

async function sync(ctx: DeviceVerbContext): Promise<void> {
  const { protectimusSync } = await import('./service.js');
  const r = await protectimusSync(ctx.store, ctx.transport, {
    model: modelOf(ctx),
    serial: optString(ctx, 'serial'),
    onStep: ctx.step,
  });
  const drift =
    r.driftBefore !== null
      ? `: drift was ${signed(r.driftBefore)} step(s), now ${signed(r.driftAfter!)}`
      : '; the store does not know its seed, so the code was not checked';
  ctx.output.result(r, `set the clock of ${r.serial ?? `the ${r.model}`} (${r.interval} s steps)${drift}`);
}

async function verify(ctx: DeviceVerbContext): Promise<void> {
  const { protectimusVerify } = await import('./service.js');
  const window = optString(ctx, 'window');
  const r = await protectimusVerify(ctx.store, ctx.transport, {
    model: modelOf(ctx),
    serial: optString(ctx, 'serial'),
    window: window === undefined ? undefined : Number(window),
    onStep: ctx.step,
  });
  ctx.output.result(
    r,
    `the code on ${r.serial} (${r.code}, read from the token) matches its stored seed; drift ${signed(r.driftSteps)} step(s) (${signed(r.driftSeconds)} s)`,
  );
}

export const protectimusVerbs: FamilyVerbHandlers = { info, sync, verify };

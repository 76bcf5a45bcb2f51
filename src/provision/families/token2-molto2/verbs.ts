/**
 * `device info|flash|sync|profiles|erase` for the Token2 Molto2 (one seed per
 * profile). Every command that touches the device takes --customer-key.
 */
import { UsageError } from '../../../core/errors.js';
import { table } from '../../../core/table.js';
import { optString, signed, type DeviceVerbContext, type FamilyVerbHandlers } from '../verb-types.js';

const keyOf = (ctx: DeviceVerbContext) => ({ customerKey: optString(ctx, 'customerKey') });

async function info(ctx: DeviceVerbContext): Promise<void> {
  const { listProfiles } = await import('./profile-admin.js');
  const r = await listProfiles(ctx.store, ctx.transport, keyOf(ctx));
  const used = r.profiles.filter((p) => p.seedPresent);
  ctx.output.result(
    { ...r, profiles: undefined, profilesWithSeed: used.map((p) => p.profile) },
    `Molto2 ${r.deviceSerial} (${r.variant}, ${r.profileCount} profiles) on "${r.reader}": clock ${signed(r.clockOffset)} s from this computer; ${used.length} profile(s) hold a seed`,
  );
}

async function flash(ctx: DeviceVerbContext): Promise<void> {
  const m = await import('./profiles.js');
  const input = m.parseProfileFlashInput({
    ...(ctx.options as Record<string, string | undefined>),
    force: Boolean(ctx.options.force),
    ...keyOf(ctx),
  });
  const r = await m.flashProfile(ctx.store, ctx.transport, input);
  ctx.output.result(
    r,
    `flashed profile ${r.profile}${r.title ? ` '${r.title}'` : ''} of Molto2 ${r.deviceSerial} on "${r.reader}": ${r.algorithm}, ${r.digits} digits, ${r.period} s, display ${r.displayTimeout} s${r.overwrote ? ' (replaced the seed it held)' : ''}; ` +
      `store token ${r.serial}, state ${r.token.state}, batch ${r.batch}${r.token.user ? `, assigned to ${r.token.user} in ${r.token.resource}` : ''}`,
  );
}

async function sync(ctx: DeviceVerbContext): Promise<void> {
  const o = ctx.options;
  if (o.profile === undefined && !o.allProfiles)
    throw new UsageError(
      'device sync on a Molto2: say which clock with --profile n, or --all-profiles',
      'profile-needed',
    );
  const m = await import('./profiles.js');
  const { syncProfiles } = await import('./profile-admin.js');
  const r = await syncProfiles(
    ctx.store,
    ctx.transport,
    o.allProfiles ? 'all' : [m.parseProfileNumber(optString(ctx, 'profile'))],
    keyOf(ctx),
  );
  ctx.output.result(
    r,
    `synced ${r.profiles.length} profile clock(s) of Molto2 ${r.deviceSerial}: they were ${r.offsetsBefore.map(signed).join(' / ')} s off, now ${signed(r.offsetAfter)} s`,
  );
}

async function profiles(ctx: DeviceVerbContext): Promise<void> {
  const { listProfiles } = await import('./profile-admin.js');
  const r = await listProfiles(ctx.store, ctx.transport, keyOf(ctx));
  const shown = ctx.options.all ? r.profiles : r.profiles.filter((p) => p.seedPresent || p.serial || p.title);
  const rows = shown.map((p) => [
    p.profile,
    p.title,
    p.algorithm,
    p.digits,
    p.period,
    p.seedPresent ? 'yes' : 'no',
    `${signed(p.clockOffset)} s`,
    p.serial ? `${p.serial} (${p.state})` : '',
    p.user ?? '',
  ]);
  ctx.output.result(
    r,
    () =>
      `Molto2 ${r.deviceSerial} (${r.variant}, ${r.profileCount} profiles)\n` +
      table(['PROFILE', 'TITLE', 'ALG', 'DIGITS', 'STEP', 'SEED', 'CLOCK', 'STORE', 'USER'], rows),
  );
}

async function erase(ctx: DeviceVerbContext): Promise<void> {
  const { parseProfileNumber } = await import('./profiles.js');
  const { eraseProfile } = await import('./profile-admin.js');
  const profile = parseProfileNumber(optString(ctx, 'profile'));
  if (!ctx.yes && !ctx.options.force) {
    if (!ctx.output.interactive)
      throw new UsageError(`device erase deletes the seed of profile ${profile}: confirm with --yes`, 'confirm-needed');
    ctx.stopProgress();
    const asked = { message: `Delete the seed of profile ${profile}? It cannot be read back.`, default: false };
    if (!(await ctx.prompt.confirm(asked))) throw new UsageError('cancelled; nothing was erased', 'cancelled');
  }
  const r = await eraseProfile(ctx.store, ctx.transport, profile, keyOf(ctx));
  ctx.output.result(
    r,
    `erased profile ${r.profile} of Molto2 ${r.deviceSerial}${r.storeUpdated ? `; store token ${r.serial} is back in stock without a seed` : ''}`,
  );
}

export const molto2Verbs: FamilyVerbHandlers = { info, flash, sync, profiles, erase };

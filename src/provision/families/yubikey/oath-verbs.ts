/**
 * `device info|flash|verify|profiles|erase --model yubikey-oath` (or a key
 * detection told): the OATH application over PC/SC, store side in
 * ../yubikey-oath.ts. The access password comes from --password-file,
 * --password or a prompt (only when the key has one), is used for one
 * VALIDATE and is never stored or logged.
 */
import { readFileSync } from 'node:fs';
import { DataError, TokensmithError, UsageError } from '../../../core/errors.js';
import type { PasswordSource } from '../../../../drivers/yubikey/oath-driver.js';
import type { OathFlashInput } from './oath.js';
import {
  optString,
  type DeviceVerbContext,
  type FamilyVerbChecks,
  type FamilyVerbHandlers,
  type VerbCheckContext,
} from '../verb-types.js';

function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(
      `--password-file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a file whose first line is the password`,
      {
        code: 'bad-password-file',
        where: path,
      },
    );
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** Where the access password comes from; asked for only when the key says it has one. */
export function passwordSource(
  ctx: Pick<VerbCheckContext, 'options' | 'output' | 'yes' | 'stopProgress' | 'prompt'>,
): PasswordSource {
  const o = ctx.options;
  if (typeof o.passwordFile === 'string') return readPasswordFile(o.passwordFile);
  if (typeof o.password === 'string') return o.password;
  if (!ctx.output.interactive || ctx.yes) return undefined;
  return async () => {
    ctx.stopProgress();
    return ctx.prompt.password({ message: 'OATH access password of the YubiKey' });
  };
}

/** What the checks hand the handler: the password source, and a flash's parsed input. */
interface OathPrepared {
  password: PasswordSource;
  input?: OathFlashInput;
}

const prepared = (ctx: DeviceVerbContext): OathPrepared =>
  (ctx.prepared as OathPrepared | undefined) ?? { password: passwordSource(ctx) };

async function checkFlash(ctx: VerbCheckContext): Promise<OathPrepared> {
  const o = ctx.options;
  if (!ctx.yes && !o.force && !ctx.output.interactive)
    throw new UsageError(
      'device flash writes a credential to the YubiKey: confirm with --yes (no terminal to ask in)',
      'confirm-needed',
    );
  const { parseOathFlashInput, freshOathSeed } = await import('./oath.js');
  const input = parseOathFlashInput({
    ...(o as Record<string, string | undefined>),
    touch: Boolean(o.touch),
    force: Boolean(o.force),
  });
  // A recording names the seed before the key is written (it decides what is redacted).
  if (typeof o.record === 'string' && !input.seed) input.seed = freshOathSeed(input.algorithm);
  return { password: passwordSource(ctx), input };
}

async function checkErase(ctx: VerbCheckContext): Promise<OathPrepared> {
  const name = optString(ctx as DeviceVerbContext, 'name');
  if (name === undefined)
    throw new UsageError(
      'device erase on a YubiKey: say which credential with --name (device profiles lists them)',
      'name-needed',
    );
  if (!ctx.yes && !ctx.options.force)
    throw new UsageError(
      `device erase deletes credential '${name}' from the YubiKey for good: confirm with --yes`,
      'confirm-needed',
    );
  return { password: passwordSource(ctx) };
}

const checkPassword = async (ctx: VerbCheckContext): Promise<OathPrepared> => ({ password: passwordSource(ctx) });

export const oathChecks: FamilyVerbChecks = {
  info: checkPassword,
  verify: checkPassword,
  profiles: checkPassword,
  erase: checkErase,
  flash: checkFlash,
};

async function recordFlash(ctx: DeviceVerbContext, path: string, input: OathFlashInput) {
  const { startRecording } = await import('../../cassettes.js');
  const { formatCredentialName } = await import('../../../../drivers/yubikey/oath-protocol.js');
  // The replay writes the same credential, so the name must be known before the key is.
  if (input.account === undefined)
    throw new UsageError('--record needs --name: a replay writes the same credential name', 'name-needed');
  const name = formatCredentialName({
    issuer: input.issuer,
    account: input.account,
    period: input.period,
    type: input.type,
  });
  return startRecording(ctx.transport, path, {
    source: /virtual pcd/i.test(ctx.transport.readerName) ? 'simulator' : 'hardware',
    operation: 'flash',
    params: {
      name,
      type: input.type,
      algorithm: input.algorithm,
      digits: input.digits,
      period: input.period,
      touch: input.touch,
      counter: input.counter,
    },
    seed: input.seed ?? null,
    model: 'yubikey-oath',
  });
}

async function flash(ctx: DeviceVerbContext): Promise<void> {
  const pre = (ctx.prepared as OathPrepared | undefined) ?? (await checkFlash(ctx));
  const input = pre.input!;
  const record = optString(ctx, 'record');
  const session = record ? await recordFlash(ctx, record, input) : null;
  const { flashOathCredential } = await import('./oath.js');
  try {
    const r = await flashOathCredential(ctx.store, session?.transport ?? ctx.transport, {
      ...input,
      password: pre.password,
      now: session?.clock.now,
    });
    session?.save({ ok: true });
    ctx.output.result(
      r,
      `wrote ${r.type} credential '${r.credential}' (${r.algorithm}, ${r.digits} digits${r.type === 'totp' ? `, ${r.period} s` : ''}${r.touch ? ', touch' : ''}) to YubiKey ${r.deviceId}${r.replaced ? ' (replaced the one of that name)' : ''}; store token ${r.serial}, state ${r.token.state}, batch ${r.batch}${r.token.user ? `, assigned to ${r.token.user}` : ''}`,
    );
  } catch (e) {
    session?.save({ ok: false, error: e instanceof TokensmithError ? e.code : 'failure' });
    throw e;
  }
}

async function info(ctx: DeviceVerbContext): Promise<void> {
  const { oathInfo } = await import('./oath-admin.js');
  const v = await oathInfo(ctx.store, ctx.transport, { password: prepared(ctx).password });
  ctx.output.result(v, () =>
    [
      `YubiKey OATH  version ${v.version}`,
      `device id     ${v.deviceId}`,
      `reader        ${v.reader}`,
      `password      ${v.passwordSet ? 'set' : 'none'}`,
      `credentials   ${v.credentialCount ?? 'unknown (give --password-file to count them)'}`,
    ].join('\n'),
  );
}

async function profiles(ctx: DeviceVerbContext): Promise<void> {
  const { listOathCredentials } = await import('./oath-admin.js');
  const { table } = await import('../../../core/table.js');
  const v = await listOathCredentials(ctx.store, ctx.transport, { password: prepared(ctx).password });
  ctx.output.result(
    v,
    () =>
      `YubiKey ${v.deviceId} (OATH ${v.version}), ${v.credentials.length} credential(s)\n` +
      table(
        ['NAME', 'TYPE', 'ALG', 'STORE', 'USER'],
        v.credentials.map((c) => [
          c.name,
          c.type,
          c.algorithm,
          c.serial ? `${c.serial} (${c.state})` : '',
          c.user ?? '',
        ]),
      ),
  );
}

async function erase(ctx: DeviceVerbContext): Promise<void> {
  const { eraseOathCredential } = await import('./oath-admin.js');
  const pre = (ctx.prepared as OathPrepared | undefined) ?? (await checkErase(ctx));
  const r = await eraseOathCredential(ctx.store, ctx.transport, optString(ctx, 'name')!, { password: pre.password });
  ctx.output.result(
    r,
    `deleted credential '${r.name}' from YubiKey ${r.deviceId}${r.storeUpdated ? `; store token ${r.serial} is back in stock without a seed` : ''}`,
  );
}

async function verify(ctx: DeviceVerbContext): Promise<void> {
  const { verifyOathCredential } = await import('./oath-admin.js');
  const r = await verifyOathCredential(ctx.store, ctx.transport, optString(ctx, 'name'), {
    password: prepared(ctx).password,
  });
  ctx.output.result(
    r,
    `the YubiKey's code for '${r.name}' (${r.code}) matches the seed the store holds for ${r.serial}`,
  );
}

export const oathVerbs: FamilyVerbHandlers = { info, flash, verify, profiles, erase };

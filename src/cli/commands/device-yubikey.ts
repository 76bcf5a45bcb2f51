/**
 * `device info|flash|verify|profiles|erase --model yubikey-oath`: parse,
 * open the reader, call src/provision/yubikey-oath.ts, print. The access
 * password comes from --password-file, --password or a prompt (only when the
 * key has one), is used for one VALIDATE and is never stored or logged.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DataError } from '../../core/errors.js';
import { globalsOf, table, withStore, type Output } from '../context.js';
import type { ApduTransport } from '../../transport/types.js';
import type { PasswordSource } from '../../../drivers/yubikey/oath-driver.js';

type Opts = Record<string, string | boolean | undefined>;
export type YubikeyVerb = 'info' | 'flash' | 'verify' | 'profiles' | 'erase';

/** The options the yubikey-oath model adds to the `device` commands. */
export function addYubikeyOptions(device: Command): void {
  const sub = (name: string) => device.commands.find((c) => c.name() === name)!;
  const password = (c: Command) =>
    c.option('--password <pw>', 'YubiKey: the OATH access password (seen by other users in the process list: prefer --password-file or the prompt)').option('--password-file <file>', 'YubiKey: read the OATH access password from the first line of this file');
  password(sub('info'));
  password(sub('verify'));
  password(sub('profiles'));
  password(sub('erase')).option('--name <credential>', 'YubiKey: the full name of the credential to delete (as `device profiles` lists it)');
  sub('verify').option('--name <credential>', 'YubiKey: the full credential name to check (needed when the key holds several)');
  password(sub('flash'))
    .option('--name <account>', 'YubiKey: the account name of the credential (default: its store serial)')
    .option('--issuer <issuer>', 'YubiKey: the issuer, written before the name ("issuer:name")')
    .option('--type <type>', 'YubiKey: totp (default) or hotp')
    .option('--counter <n>', 'YubiKey: the first HOTP counter (default 0)')
    .option('--touch', 'YubiKey: every code needs a touch of the key')
    .addHelpText('after', '\nYubiKey (OATH): one credential per flash, one store token per credential:\n  tokensmith device flash --model yubikey-oath --name alice --issuer Corp --algorithm sha256 --digits 8 --period 60 --yes\n  tokensmith device flash --model yubikey-oath --batch 20 --password-file oath.pw --yes');
}

function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`--password-file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give a file whose first line is the password`, { code: 'bad-password-file', where: path });
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** Where the access password comes from; asked for only when the key says it has one. */
export function passwordSource(o: Opts, out: Output, yes: boolean): PasswordSource {
  if (typeof o.passwordFile === 'string') return readPasswordFile(o.passwordFile);
  if (typeof o.password === 'string') return o.password;
  if (!out.interactive || yes) return undefined;
  return async () => {
    const { password } = await import('@inquirer/prompts');
    return password({ message: 'OATH access password of the YubiKey', mask: '*' });
  };
}

async function openReader(o: Opts, out: Output): Promise<ApduTransport> {
  const { openPcscTransport } = await import('../../transport/pcsc.js');
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  return openPcscTransport({ reader: o.reader as string | undefined, waitSeconds: wait, onWaiting: (names) => out.info(`waiting up to ${wait} s for a YubiKey on ${names.map((n) => `"${n}"`).join(' or ')}`) });
}

/** Runs one yubikey-oath verb; the dispatch in device-families.ts calls this for the yubikey family. */
export async function yubikeyVerb(verb: YubikeyVerb, o: Opts, cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  await withStore(cmd, async (store, out) => {
    const { UsageError } = await import('../../core/errors.js');
    const p = await import('../../provision/yubikey-oath.js');
    const password = passwordSource(o, out, Boolean(g.yes));
    if (verb === 'flash' && !g.yes && !o.force && !out.interactive) throw new UsageError('device flash writes a credential to the YubiKey: confirm with --yes (no terminal to ask in)', 'confirm-needed');
    if (verb === 'erase' && typeof o.name !== 'string') throw new UsageError('device erase on a YubiKey: say which credential with --name (device profiles lists them)', 'name-needed');
    if (verb === 'erase' && !g.yes && !o.force) throw new UsageError(`device erase deletes credential '${o.name}' from the YubiKey for good: confirm with --yes`, 'confirm-needed');
    const foreign = (['displayTimeout', 'profile', 'title', 'customerKey', 'serial', 'allProfiles', 'users'] as const).find((k) => o[k] !== undefined);
    if (foreign) throw new UsageError(`--${foreign.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is not for a YubiKey (yubikey-oath takes --name, --issuer, --type, --algorithm, --digits, --period, --counter, --touch)`, 'option-not-supported');
    if (o.seed && o.randomSeed) throw new UsageError('give --seed or --random-seed, not both');
    const input = verb === 'flash' ? p.parseOathFlashInput({ ...(o as Record<string, string | undefined>), touch: Boolean(o.touch), force: Boolean(o.force) }) : null;
    if (input && o.batch !== undefined) return flashKeys(store, o, { ...input, password }, out);
    if (input && typeof o.record === 'string' && !input.seed) input.seed = p.freshOathSeed(input.algorithm);
    let transport = await openReader(o, out);
    const session = input && typeof o.record === 'string' ? await recordFlash(transport, o.record, input) : null;
    if (session) transport = session.transport;
    try {
      if (verb === 'flash') {
        const r = await p.flashOathCredential(store, transport, { ...input!, password, now: session?.clock.now });
        session?.save({ ok: true });
        out.result(r, `wrote ${r.type} credential '${r.credential}' (${r.algorithm}, ${r.digits} digits${r.type === 'totp' ? `, ${r.period} s` : ''}${r.touch ? ', touch' : ''}) to YubiKey ${r.deviceId}${r.replaced ? ' (replaced the one of that name)' : ''}; store token ${r.serial}, state ${r.token.state}, batch ${r.batch}${r.token.user ? `, assigned to ${r.token.user}` : ''}`);
      } else if (verb === 'info') {
        const v = await p.oathInfo(store, transport, { password });
        out.result(v, () => [`YubiKey OATH  version ${v.version}`, `device id     ${v.deviceId}`, `reader        ${v.reader}`, `password      ${v.passwordSet ? 'set' : 'none'}`, `credentials   ${v.credentialCount ?? 'unknown (give --password-file to count them)'}`].join('\n'));
      } else if (verb === 'profiles') {
        const v = await p.listOathCredentials(store, transport, { password });
        out.result(v, () => `YubiKey ${v.deviceId} (OATH ${v.version}), ${v.credentials.length} credential(s)\n` + table(['NAME', 'TYPE', 'ALG', 'STORE', 'USER'], v.credentials.map((c) => [c.name, c.type, c.algorithm, c.serial ? `${c.serial} (${c.state})` : '', c.user ?? ''])));
      } else if (verb === 'erase') {
        const r = await p.eraseOathCredential(store, transport, o.name as string, { password });
        out.result(r, `deleted credential '${r.name}' from YubiKey ${r.deviceId}${r.storeUpdated ? `; store token ${r.serial} is back in stock without a seed` : ''}`);
      } else {
        const r = await p.verifyOathCredential(store, transport, o.name as string | undefined, { password });
        out.result(r, `the YubiKey's code for '${r.name}' (${r.code}) matches the seed the store holds for ${r.serial}`);
      }
    } catch (e) {
      const { TokensmithError } = await import('../../core/errors.js');
      session?.save({ ok: false, error: e instanceof TokensmithError ? e.code : 'failure' });
      throw e;
    } finally {
      await transport.close();
    }
  });
}

async function recordFlash(transport: ApduTransport, path: string, input: import('../../provision/yubikey-oath.js').OathFlashInput) {
  const { startRecording } = await import('../../provision/cassettes.js');
  const { formatCredentialName } = await import('../../../drivers/yubikey/oath-protocol.js');
  const { UsageError } = await import('../../core/errors.js');
  // The replay writes the same credential, so the name must be known before the key is.
  if (input.account === undefined) throw new UsageError('--record needs --name: a replay writes the same credential name', 'name-needed');
  const name = formatCredentialName({ issuer: input.issuer, account: input.account, period: input.period, type: input.type });
  return startRecording(transport, path, {
    source: /virtual pcd/i.test(transport.readerName) ? 'simulator' : 'hardware',
    operation: 'flash',
    params: { name, type: input.type, algorithm: input.algorithm, digits: input.digits, period: input.period, touch: input.touch, counter: input.counter },
    seed: input.seed ?? null,
    model: 'yubikey-oath',
  });
}

/** --batch [n]: keys one after another on one PC/SC context. */
async function flashKeys(store: import('../../store/types.js').Store, o: Opts, input: import('../../provision/yubikey-oath.js').OathFlashInput, out: Output): Promise<void> {
  const { UsageError, TokensmithError } = await import('../../core/errors.js');
  const count = o.batch === true ? null : Number(o.batch);
  if (count !== null && (!Number.isInteger(count) || count < 1)) throw new UsageError(`--batch must be a whole number from 1, got '${o.batch}'`);
  // Refused before the reader is opened (flashOathBatch refuses it too, for other callers).
  if (input.seed) throw new UsageError('--seed with --batch would give every key the same seed: leave it out, each credential gets a fresh one');
  if (o.record) throw new UsageError('--record records one session: leave out --batch');
  const { PcscContext } = await import('../../transport/pcsc.js');
  const { NoTokenError } = await import('../../transport/errors.js');
  const { flashOathBatch } = await import('../../provision/yubikey-oath-batch.js');
  const ctx = await PcscContext.open();
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  try {
    const r = await flashOathBatch(store, count, input, {
      next: () => ctx.select({ reader: o.reader as string | undefined, waitSeconds: wait, onWaiting: () => out.info(`put the next YubiKey on the reader (waiting up to ${wait} s)`) }).catch((e) => (e instanceof NoTokenError && count === null ? null : Promise.reject(e))),
      onKey: (i, res) => out.info(`#${i + 1}: ${res instanceof Error ? `FAILED: ${res.message}` : `wrote '${res.credential}' to ${res.deviceId} (store ${res.serial})`}`),
      done: async (t, last) => {
        if (last || !t.isPresent()) return;
        out.info('take the YubiKey off the reader');
        await new Promise<void>((resolve) => {
          const off = t.onRemoved(() => (off(), resolve()));
          if (!t.isPresent()) resolve();
        });
      },
    });
    out.result(r, () => [`batch ${r.batch}: ${r.flashed.length} flashed, ${r.failed.length} failed`, ...r.flashed.map((f) => `  flashed  ${f.serial} '${f.credential}'`), ...r.failed.map((f) => `  failed   #${f.index}: ${f.message}`)].join('\n'));
    if (r.failed.length > 0) throw new TokensmithError(`batch ${r.batch}: ${r.failed.length} key(s) failed`, { exitCode: 3, code: 'batch-partly-failed', resultPrinted: true });
  } finally {
    await ctx.close();
  }
}

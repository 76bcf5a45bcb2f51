/**
 * `device info|flash --model yubikey-otp`: the CLI side of OATH-HOTP in a
 * YubiKey OTP slot. Over USB HID by default; over PC/SC (CCID) with
 * --reader. The work is in src/provision/yubikey-otp.ts.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { globalsOf, withStore, type Output } from '../context.js';
import type { Store } from '../../store/types.js';
import type { OtpLink } from '../../../drivers/yubikey/otp/link.js';
import type { RecordSession } from '../../provision/cassettes.js';

type Opts = Record<string, string | boolean | undefined>;

/** Options only yubikey-otp reads; the other families refuse none of them because they never look. */
export function addYubikeyOtpOptions(device: Command): void {
  const sub = (name: string) => device.commands.find((c) => c.name() === name)!;
  sub('flash')
    .option('--slot <n>', 'YubiKey OTP: the slot to program, 1 or 2')
    .option('--counter <n>', 'YubiKey OTP: the initial moving factor (HOTP counter), a multiple of 16 (default 0)')
    .option('--token-id <hex>', 'YubiKey OTP: an OATH token identifier the key types before each code (up to 16 bytes, hex)')
    .option('--access-code <hex>', "YubiKey OTP: the slot's access code, 12 hex digits, or '-' to be asked; tried once, and kept on the slot")
    .option('--access-code-file <path>', 'YubiKey OTP: read the access code from this file')
    .option('--hid-path <path>', 'YubiKey OTP: the HID device to use when several keys are plugged in (`device list` shows them)')
    .addHelpText(
      'after',
      '\nYubiKey OTP (OATH-HOTP in slot 1 or 2, registered as UBOM<serial>_<slot>; USB HID, or CCID with --reader):\n  tokensmith device flash --model yubikey-otp --slot 2 --digits 8 --counter 0 --yes\n  tokensmith device flash --model yubikey-otp --slot 1 --access-code - --force --yes   (a protected slot: the code is tried once)',
    );
  sub('info').option('--hid-path <path>', 'YubiKey OTP: the HID device to read');
}

interface OpenedKey {
  link: OtpLink;
  reader: string;
  close(): Promise<void>;
  /** Resolves once the key has been taken away. */
  gone(): Promise<void>;
  session: RecordSession | null;
}

async function recording(o: Opts, inner: import('../../transport/types.js').ApduTransport, params: Record<string, unknown>, seed: Uint8Array | null): Promise<RecordSession | null> {
  if (typeof o.record !== 'string') return null;
  const { startRecording } = await import('../../provision/cassettes.js');
  const { isOtpSeedBearing } = await import('../../../drivers/yubikey/otp/index.js');
  // An access code is a secret too: with one, the write is redacted even for a labelled test seed.
  const keep = (f: Uint8Array) => (f.length === 8 ? 0 : 5);
  return startRecording(inner, o.record, { source: /virtual pcd|simulator/i.test(inner.readerName) ? 'simulator' : 'hardware', operation: 'flash', params, seed, model: 'yubikey-otp', redaction: { isSeedBearing: isOtpSeedBearing, keep, always: Boolean(params.accessCode) } });
}

/** Opens the key: PC/SC with --reader (CCID), else USB HID. */
async function openKey(o: Opts, out: Output, record?: { params: Record<string, unknown>; seed: Uint8Array | null }): Promise<OpenedKey> {
  const { CcidOtpLink, HidOtpLink } = await import('../../../drivers/yubikey/otp/link.js');
  if (typeof o.reader === 'string') {
    const { openPcscTransport } = await import('../../transport/pcsc.js');
    const wait = Number(o.wait ?? 10);
    const t = await openPcscTransport({ reader: o.reader, waitSeconds: wait, onWaiting: (n) => out.info(`waiting up to ${wait} s for a YubiKey on ${n.map((x) => `"${x}"`).join(' or ')}`) });
    const session = record ? await recording(o, t, { ...record.params, link: 'ccid' }, record.seed) : null;
    const gone = () => new Promise<void>((resolve) => (t.isPresent() ? t.onRemoved(resolve) : resolve()));
    return { link: new CcidOtpLink(session?.transport ?? t), reader: t.readerName, close: () => t.close(), gone, session };
  }
  const { openYubikeyHid, listYubikeysHid } = await import('../../transport/hid.js');
  const { framesAsPort, portAsFrames } = await import('../../transport/hid-reports.js');
  const key = await openYubikeyHid(o.hidPath as string | undefined);
  const session = record ? await recording(o, portAsFrames(key, { readerName: key.path }), { ...record.params, link: 'hid' }, record.seed) : null;
  const gone = async () => {
    while ((await listYubikeysHid()).some((k) => k.path === key.path)) await new Promise((r) => setTimeout(r, 500));
  };
  return { link: new HidOtpLink(session ? framesAsPort(session.transport) : key), reader: `${key.product} (${key.path})`, close: () => key.close(), gone, session };
}

async function accessCodeOf(o: Opts, out: Output): Promise<Uint8Array | undefined> {
  const { parseAccessCode } = await import('../../provision/yubikey-otp.js');
  const { UsageError } = await import('../../core/errors.js');
  if (o.accessCode !== undefined && o.accessCodeFile !== undefined) throw new UsageError('give --access-code or --access-code-file, not both');
  if (typeof o.accessCodeFile === 'string') return parseAccessCode(readFileSync(o.accessCodeFile, 'utf8'), '--access-code-file');
  if (o.accessCode === '-') {
    if (!out.interactive) throw new UsageError("--access-code -: no terminal to ask in; use --access-code-file", 'confirm-needed');
    const { password } = await import('@inquirer/prompts');
    return parseAccessCode(await password({ message: 'Access code of the slot (12 hex digits)', mask: '*' }));
  }
  return typeof o.accessCode === 'string' ? parseAccessCode(o.accessCode) : undefined;
}

async function flashOne(store: Store, o: Opts, out: Output, input: import('../../provision/yubikey-otp.js').YubikeyOtpInput): Promise<import('../../provision/yubikey-otp.js').YubikeyOtpResult> {
  const { flashYubikeyOtp } = await import('../../provision/yubikey-otp.js');
  const { YubiOtpDriver } = await import('../../../drivers/yubikey/otp/driver.js');
  const { testSeedLabel } = await import('../../provision/cassettes.js');
  const params = { slot: input.slot, digits: input.digits, counter: input.counter, tokenIdHex: input.tokenId ? Buffer.from(input.tokenId).toString('hex') : '', accessCode: Boolean(input.accessCode) };
  const key = await openKey(o, out, typeof o.record === 'string' ? { params, seed: input.seed ?? null } : undefined);
  try {
    const r = await flashYubikeyOtp(store, new YubiOtpDriver(key.link), input, { reader: key.reader });
    key.session?.save({ ok: true });
    if (key.session && !testSeedLabel(input.seed)) out.info('the cassette holds no seed: its key-bearing frames were redacted');
    if (input.batchId !== undefined) {
      out.info(`flashed ${r.serial}; take the key away for the next one`);
      await key.gone();
    }
    return r;
  } catch (e) {
    const { TokensmithError } = await import('../../core/errors.js');
    key.session?.save({ ok: false, error: e instanceof TokensmithError ? e.code : 'failure' });
    throw e;
  } finally {
    await key.close();
  }
}

const describeResult = (r: import('../../provision/yubikey-otp.js').YubikeyOtpResult) =>
  `programmed slot ${r.slot} of YubiKey ${r.deviceSerial} (firmware ${r.firmware}, ${r.link.toUpperCase()}): OATH-HOTP ${r.digits} digits from counter ${r.counter}${r.overwroteSlot ? ', replacing what the slot held' : ''}; registered as ${r.serial}, state ${r.token.state}, batch ${r.batch}`;

/** `device flash --model yubikey-otp`, one key or --batch [n] keys one after another. */
export async function yubikeyOtpFlash(o: Opts, cmd: Command): Promise<void> {
  await withStore(cmd, async (store, out) => {
    const { UsageError } = await import('../../core/errors.js');
    const { parseYubikeyOtpInput } = await import('../../provision/yubikey-otp.js');
    const input = parseYubikeyOtpInput({ slot: o.slot as string | undefined, digits: o.digits as string | undefined, counter: o.counter as string | undefined, seed: o.seed as string | undefined, tokenId: o.tokenId as string | undefined, accessCode: await accessCodeOf(o, out), force: Boolean(o.force), resource: o.resource as string | undefined });
    if (!globalsOf(cmd).yes && !o.force) {
      if (!out.interactive) throw new UsageError('device flash programs a YubiKey slot: confirm with --yes (no terminal to ask in)', 'confirm-needed');
      const { confirm } = await import('@inquirer/prompts');
      if (!(await confirm({ message: `Program OATH-HOTP (${input.digits} digits, counter ${input.counter}) into slot ${input.slot}?`, default: true }))) throw new UsageError('cancelled; nothing was written', 'cancelled');
    }
    if (o.batch === undefined) {
      const r = await flashOne(store, o, out, input);
      return out.result(r, describeResult(r));
    }
    if (input.seed) throw new UsageError('--seed with --batch would give every key the same seed: leave it out, each key gets a fresh one');
    if (o.record) throw new UsageError('--record records one session: leave out --batch');
    const count = o.batch === true ? Infinity : Number(o.batch);
    if (!(count >= 1)) throw new UsageError(`--batch: a number of keys, not '${String(o.batch)}'`);
    const batchId = (await store.batches.create({ kind: 'flash', sourceName: 'yubikey-otp', format: 'yubikey-otp', operator: store.operator })).id;
    const flashed: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const r = await flashOne(store, o, out, { ...input, batchId }).catch((e: { code?: string }) => {
          // Without n, the batch ends when no key comes within --wait.
          if (count === Infinity && i > 0 && e.code === 'no-token') return null;
          throw e;
        });
        if (!r) break;
        out.info(describeResult(r));
        flashed.push(r.serial);
      }
    } finally {
      await store.batches.finish(batchId, { imported: flashed.length, skipped: 0, failed: 0 }, 'done');
    }
    out.result({ batch: batchId, flashed }, `batch ${batchId}: ${flashed.length} key(s) programmed: ${flashed.join(', ')}`);
  });
}

/** `device info --model yubikey-otp`: firmware, serial, which slots are configured, and what the store holds for them. */
export async function yubikeyOtpInfo(o: Opts, cmd: Command): Promise<void> {
  await withStore(cmd, async (store, out) => {
    const { YubiOtpDriver } = await import('../../../drivers/yubikey/otp/driver.js');
    const { slotSerial, YUBICO_MANUFACTURER } = await import('../../provision/yubikey-otp.js');
    const key = await openKey(o, out);
    try {
      const info = await new YubiOtpDriver(key.link).readInfo();
      const inStore = async (slot: 1 | 2) => (info.serial === null ? null : ((await store.tokens.findOne(YUBICO_MANUFACTURER, slotSerial(info.serial, slot)))?.state ?? null));
      const slots = [1, 2].map((n) => ({ slot: n, configured: n === 1 ? info.status.slot1Configured : info.status.slot2Configured }));
      const v = { model: 'yubikey-otp', reader: key.reader, link: info.link, serial: info.serial, firmware: info.status.version.join('.'), sequence: info.status.sequence, slots: await Promise.all(slots.map(async (s) => ({ ...s, inStore: await inStore(s.slot as 1 | 2) }))) };
      out.result(v, () =>
        [`model         ${v.model}`, `reader        ${v.reader} (${v.link.toUpperCase()})`, `serial        ${v.serial ?? 'hidden'}`, `firmware      ${v.firmware}`, ...v.slots.map((s) => `slot ${s.slot}        ${s.configured ? 'configured' : 'empty'}${s.inStore ? `, in store: ${s.inStore}` : ''}`)].join('\n'),
      );
    } finally {
      await key.close();
    }
  });
}

export interface DeviceListRow {
  name: string;
  token: boolean;
  atr: string | null;
  /** How tokensmith reaches it: a PC/SC reader, or a YubiKey's USB HID interface. */
  kind?: 'pcsc' | 'hid';
  path?: string;
}

/** `device list`'s rows for YubiKeys on USB HID; none where node-hid is absent (a PC/SC-only install). */
export async function hidYubikeyRows(): Promise<DeviceListRow[]> {
  const { listYubikeysHid, HidUnavailableError } = await import('../../transport/hid.js');
  try {
    return (await listYubikeysHid()).map((k) => ({ name: `${k.product ?? 'YubiKey'} (USB HID, use --model yubikey-otp)`, token: true, atr: null, kind: 'hid' as const, path: k.path }));
  } catch (e) {
    if (e instanceof HidUnavailableError) return [];
    throw e;
  }
}

/** The PC/SC readers, then the HID YubiKeys; with pcscd down, the HID keys still show (and the reason is a warning). */
export async function listDeviceRows(out: Output): Promise<DeviceListRow[]> {
  const { listPcscReaders } = await import('../../transport/pcsc.js');
  const hid = await hidYubikeyRows();
  const readers = await listPcscReaders().catch((e: Error) => {
    if (hid.length === 0) throw e;
    out.warn(e.message);
    return [];
  });
  return [...readers.map((r) => ({ ...r, kind: 'pcsc' as const })), ...hid];
}

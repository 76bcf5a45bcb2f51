/**
 * `device list`: the PC/SC readers, then the YubiKeys on USB HID (reached
 * with --model yubikey-otp), so a key with no reader of its own shows too.
 */
import type { Output } from '../context.js';

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
    return (await listYubikeysHid()).map((k) => ({
      name: `${k.product ?? 'YubiKey'} (USB HID, use --model yubikey-otp)`,
      token: true,
      atr: null,
      kind: 'hid' as const,
      path: k.path,
    }));
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

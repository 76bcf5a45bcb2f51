/**
 * `device list`: the PC/SC readers, then the devices the families reach
 * another way (each family's listDevices: a key on USB HID, say), so a key
 * with no reader of its own shows too.
 */
import type { Output } from '../context.js';

export interface DeviceListRow {
  name: string;
  token: boolean;
  atr: string | null;
  /** How tokensmith reaches it: 'pcsc' for a PC/SC reader, else the family's way ('hid'). */
  kind?: string;
  path?: string;
}

/** The devices each family lists besides the PC/SC readers; none where what reaches them is not installed. */
export async function familyDeviceRows(): Promise<DeviceListRow[]> {
  const { families } = await import('../../../drivers/registry.js');
  const rows: DeviceListRow[] = [];
  for (const f of await families())
    for (const d of (await f.listDevices?.()) ?? [])
      rows.push({ name: d.name, token: true, atr: null, kind: d.kind, path: d.path });
  return rows;
}

/** The PC/SC readers, then the families' other devices; with pcscd down, those still show (and the reason is a warning). */
export async function listDeviceRows(out: Output): Promise<DeviceListRow[]> {
  const { listPcscReaders } = await import('../../transport/pcsc.js');
  const others = await familyDeviceRows();
  const readers = await listPcscReaders().catch((e: Error) => {
    if (others.length === 0) throw e;
    out.warn(e.message);
    return [];
  });
  return [...readers.map((r) => ({ ...r, kind: 'pcsc' })), ...others];
}

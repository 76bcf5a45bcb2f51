/**
 * YubiKeys on USB HID (src/transport/hid.ts's node-hid): only the keyboard
 * interface of vendor 0x1050 is used, the OTP application's feature reports.
 * Where the OS denies the hidraw node, the error names the udev rule to
 * install (docs/devices.md). `device list` shows the keys through the
 * family's listDevices.
 */
import { DeviceError } from '../../src/core/errors.js';
import type { FeatureReportPort } from '../../src/transport/hid-reports.js';
import {
  HidUnavailableError,
  listHid,
  loadNodeHid,
  openDenied,
  openHidFeaturePort,
  type HidDeviceInfo,
  type NodeHidModule,
} from '../../src/transport/hid.js';
import type { ListedDevice } from '../family.js';

export const YUBICO_VENDOR_ID = 0x1050;
/** The OTP application is on the boot keyboard interface (usage page 1, usage 6). */
const KEYBOARD = { usagePage: 0x01, usage: 0x06 };

export const UDEV_HINT =
  'install the udev rule that gives the logged-in user the YubiKey hidraw nodes (Debian: `apt-get install libu2f-udev`, or a file /etc/udev/rules.d/70-yubikey.rules with\n  KERNEL=="hidraw*", SUBSYSTEM=="hidraw", ATTRS{idVendor}=="1050", TAG+="uaccess"\nthen `sudo udevadm control --reload && sudo udevadm trigger`, and re-insert the key); see docs/devices.md';

const nodeHid = () => loadNodeHid(', or use a YubiKey over PC/SC with --reader');

const isOtpInterface = (d: HidDeviceInfo) =>
  d.vendorId === YUBICO_VENDOR_ID &&
  (d.usagePage !== undefined ? d.usagePage === KEYBOARD.usagePage && d.usage === KEYBOARD.usage : d.interface === 0);

/** The YubiKeys whose OTP (keyboard) interface the OS shows, each once. */
export async function listYubikeysHid(mod?: NodeHidModule): Promise<HidDeviceInfo[]> {
  return listHid(mod ?? (await nodeHid()), isOtpInterface);
}

/** `device list`'s rows for YubiKeys on USB HID; none where node-hid is absent (a PC/SC-only install). */
export async function listedYubikeys(): Promise<ListedDevice[]> {
  try {
    return (await listYubikeysHid()).map((k) => ({
      name: `${k.product ?? 'YubiKey'} (USB HID, use --model yubikey-otp)`,
      kind: 'hid',
      path: k.path!,
    }));
  } catch (e) {
    if (e instanceof HidUnavailableError) return [];
    throw e;
  }
}

/** Why opening failed, in words: permission (with the udev rule), or the key being gone. */
export function explainOpenFailure(path: string, e: unknown, canWrite?: (p: string) => boolean): DeviceError {
  if (openDenied(path, e, canWrite))
    return new HidUnavailableError(
      `permission denied on ${path} (EACCES): the OS does not let this user open the YubiKey's HID interface; ${UDEV_HINT}`,
      e,
    );
  return new DeviceError(
    `could not open the YubiKey at ${path}: ${(e as Error)?.message ?? e}; re-insert it and try again`,
    { code: 'hid-open-failed', cause: e },
  );
}

export interface HidYubikey extends FeatureReportPort {
  readonly path: string;
  readonly product: string;
  close(): Promise<void>;
}

/** Opens a YubiKey's OTP interface: `path` one from listYubikeysHid, or the only one plugged in. */
export async function openYubikeyHid(path?: string, mod?: NodeHidModule): Promise<HidYubikey> {
  const hid = mod ?? (await nodeHid());
  const keys = await listYubikeysHid(hid);
  const info = path ? keys.find((k) => k.path === path) : keys[0];
  if (!info?.path)
    throw new DeviceError(
      path
        ? `no YubiKey at ${path}`
        : 'no YubiKey on USB HID (vendor 0x1050, keyboard interface): plug one in, or enable its OTP interface (`ykman config usb --enable OTP`)',
      { code: 'no-token' },
    );
  if (!path && keys.length > 1)
    throw new DeviceError(
      `${keys.length} YubiKeys are plugged in: leave one, or name it with --hid-path (${keys.map((k) => k.path).join(', ')})`,
      { code: 'several-tokens' },
    );
  const port = await openHidFeaturePort(hid, info.path, (e) => explainOpenFailure(info.path!, e));
  return Object.assign(port, { product: info.product ?? 'YubiKey' });
}

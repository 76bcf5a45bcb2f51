/**
 * YubiKeys on USB HID, through node-hid (an optional module, loaded only when
 * a HID command runs: tokensmith installs and runs where it is absent). Only
 * the keyboard interface of vendor 0x1050 is used: the OTP application's
 * feature reports. Where the OS denies the hidraw node, the error names the
 * udev rule to install (docs/devices.md).
 */
import { accessSync, constants } from 'node:fs';
import { DeviceError } from '../core/errors.js';
import type { FeatureReportPort } from './hid-reports.js';

export const YUBICO_VENDOR_ID = 0x1050;
/** The OTP application is on the boot keyboard interface (usage page 1, usage 6). */
const KEYBOARD = { usagePage: 0x01, usage: 0x06 };

export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string;
  product?: string;
  serialNumber?: string;
  interface: number;
  usagePage?: number;
  usage?: number;
}

interface HidHandle {
  sendFeatureReport(data: number[] | Buffer): Promise<number>;
  getFeatureReport(reportId: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** The slice of node-hid this file uses (tests pass their own). */
export interface NodeHidModule {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string, options?: { nonExclusive?: boolean }): Promise<HidHandle> };
}

export class HidUnavailableError extends DeviceError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'hid-unavailable', cause });
  }
}

export const UDEV_HINT =
  'install the udev rule that gives the logged-in user the YubiKey hidraw nodes (Debian: `apt-get install libu2f-udev`, or a file /etc/udev/rules.d/70-yubikey.rules with\n  KERNEL=="hidraw*", SUBSYSTEM=="hidraw", ATTRS{idVendor}=="1050", TAG+="uaccess"\nthen `sudo udevadm control --reload && sudo udevadm trigger`, and re-insert the key); see docs/devices.md';

let loader: () => Promise<NodeHidModule> = async () => (await import('node-hid' as string)) as NodeHidModule;

/** For tests: where node-hid comes from. */
export function setNodeHidLoader(load: () => Promise<NodeHidModule>): void {
  loader = load;
}

async function nodeHid(): Promise<NodeHidModule> {
  try {
    return await loader();
  } catch (e) {
    throw new HidUnavailableError(
      'node-hid (the optional USB HID module) is not installed or failed to load: run `npm install node-hid` (it ships prebuilt binaries for Linux, macOS and Windows), or use a YubiKey over PC/SC with --reader',
      e,
    );
  }
}

/** node-hid loads its native part at first use, so a missing system library (libusb-1.0.so.0) shows only then. */
const NATIVE_LOAD_FAILURE =
  /cannot open shared object file|Could not locate the bindings file|No native build was found/i;

/** The devices node-hid sees; a native part that cannot load is HID being unavailable, said in words. */
async function hidDevices(hid: NodeHidModule): Promise<HidDeviceInfo[]> {
  try {
    return await hid.devicesAsync();
  } catch (e) {
    const message = String((e as Error)?.message ?? e);
    if (!NATIVE_LOAD_FAILURE.test(message)) throw e;
    const lib = /\b(lib[\w.+-]+\.so[\d.]*)/.exec(message)?.[1];
    const fix = lib?.startsWith('libusb-1.0') ? ' (Debian: `apt-get install libusb-1.0-0`)' : '';
    throw new HidUnavailableError(
      `node-hid (the optional USB HID module) cannot load its native part: ${lib ? `${lib} is missing${fix}` : message}; or reach the key over PC/SC with --reader`,
      e,
    );
  }
}

const isOtpInterface = (d: HidDeviceInfo) =>
  d.vendorId === YUBICO_VENDOR_ID &&
  (d.usagePage !== undefined ? d.usagePage === KEYBOARD.usagePage && d.usage === KEYBOARD.usage : d.interface === 0);

/** The YubiKeys whose OTP (keyboard) interface the OS shows, each once. */
export async function listYubikeysHid(mod?: NodeHidModule): Promise<HidDeviceInfo[]> {
  const all = await hidDevices(mod ?? (await nodeHid()));
  const seen = new Set<string>();
  return all.filter((d) => isOtpInterface(d) && d.path && !seen.has(d.path) && seen.add(d.path));
}

/** Why opening failed, in words: permission (with the udev rule), or the key being gone. */
export function explainOpenFailure(path: string, e: unknown, canWrite: (p: string) => boolean = writable): DeviceError {
  const denied =
    /EACCES|permission/i.test(String((e as Error)?.message)) || (path.startsWith('/dev/') && !canWrite(path));
  if (denied)
    return new HidUnavailableError(
      `permission denied on ${path} (EACCES): the OS does not let this user open the YubiKey's HID interface; ${UDEV_HINT}`,
      e,
    );
  return new DeviceError(
    `could not open the YubiKey at ${path}: ${(e as Error)?.message ?? e}; re-insert it and try again`,
    { code: 'hid-open-failed', cause: e },
  );
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
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
      {
        code: 'no-token',
      },
    );
  if (!path && keys.length > 1)
    throw new DeviceError(
      `${keys.length} YubiKeys are plugged in: leave one, or name it with --hid-path (${keys.map((k) => k.path).join(', ')})`,
      { code: 'several-tokens' },
    );
  const handle = await hid.HIDAsync.open(info.path, { nonExclusive: true }).catch((e: unknown) => {
    throw explainOpenFailure(info.path!, e);
  });
  return {
    path: info.path,
    product: info.product ?? 'YubiKey',
    // node-hid takes and gives the report id (0) as the first byte.
    async sendFeatureReport(report) {
      await handle.sendFeatureReport(Buffer.from([0, ...report]));
    },
    async getFeatureReport() {
      const b = await handle.getFeatureReport(0, 9);
      return Uint8Array.from(b.length === 9 ? b.subarray(1) : b);
    },
    pause: (ms) => new Promise((r) => setTimeout(r, ms)),
    close: () => handle.close(),
  };
}

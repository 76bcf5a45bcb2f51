/**
 * USB HID devices through node-hid (an optional module, loaded only when a
 * HID command runs: tokensmith installs and runs where it is absent): the
 * loader, the listing, and a device's feature-report interface opened by
 * path. Which devices a family wants (vendor, interface) and how it words
 * its errors live with the family (drivers/<family>/).
 */
import { accessSync, constants } from 'node:fs';
import { DeviceError } from '../core/errors.js';
import type { FeatureReportPort } from './hid-reports.js';

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

let loader: () => Promise<NodeHidModule> = async () => (await import('node-hid' as string)) as NodeHidModule;

/** For tests: where node-hid comes from. */
export function setNodeHidLoader(load: () => Promise<NodeHidModule>): void {
  loader = load;
}

/** node-hid, or a HidUnavailableError that says how to install it; `orElse` is the caller's other way (', or use ...'). */
export async function loadNodeHid(orElse = ''): Promise<NodeHidModule> {
  try {
    return await loader();
  } catch (e) {
    throw new HidUnavailableError(
      `node-hid (the optional USB HID module) is not installed or failed to load: run \`npm install node-hid\` (it ships prebuilt binaries for Linux, macOS and Windows)${orElse}`,
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

/** The HID interfaces `wanted` picks, each path once. */
export async function listHid(mod: NodeHidModule, wanted: (d: HidDeviceInfo) => boolean): Promise<HidDeviceInfo[]> {
  const seen = new Set<string>();
  return (await hidDevices(mod)).filter((d) => wanted(d) && d.path && !seen.has(d.path) && seen.add(d.path));
}

/** Whether opening failed because the OS denied the node (the message says so, or the node is not writable). */
export function openDenied(path: string, e: unknown, canWrite: (p: string) => boolean = writable): boolean {
  return /EACCES|permission/i.test(String((e as Error)?.message)) || (path.startsWith('/dev/') && !canWrite(path));
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface HidFeaturePort extends FeatureReportPort {
  readonly path: string;
  close(): Promise<void>;
}

/** Opens the device at `path` (shared, so the OS keeps its other uses) as 8-byte feature reports; `explain` words a failure. */
export async function openHidFeaturePort(
  mod: NodeHidModule,
  path: string,
  explain: (e: unknown) => Error,
): Promise<HidFeaturePort> {
  const handle = await mod.HIDAsync.open(path, { nonExclusive: true }).catch((e: unknown) => {
    throw explain(e);
  });
  return {
    path,
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

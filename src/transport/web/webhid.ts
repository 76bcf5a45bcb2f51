/**
 * A report transport over WebHID (navigator.hid), for HID-class tokens in
 * desktop Chrome, Edge and Opera. Report IDs differ between the two APIs we
 * run on: WebHID passes the report ID beside the data, node-hid puts it in the
 * first byte of a write (0 when the device has no numbered reports) and of a
 * read only when reports are numbered. Drivers see one shape, HidReport, and
 * the functions below convert at the node-hid edge.
 */
import { DeviceError } from '../../core/errors.js';
import type { FeatureReport } from './bridge.js';

export interface HidReport {
  /** 0 when the device does not number its reports. */
  reportId: number;
  /** The report's bytes, without the report ID. */
  data: Uint8Array;
}

/** What a HID driver sees of the platform. */
export interface ReportTransport {
  readonly deviceName: string;
  readonly kind: string;
  /** Whether the device numbers its reports (then reportId is never 0). */
  readonly numberedReports: boolean;
  sendReport(report: HidReport): Promise<void>;
  /** The next input report, waiting up to timeoutMs. */
  receiveReport(timeoutMs?: number): Promise<HidReport>;
  close(): Promise<void>;
}

/** node-hid's write(): the report ID first, 0 for unnumbered reports. */
export function toNodeHidWrite(r: HidReport): Uint8Array {
  const out = new Uint8Array(r.data.length + 1);
  out[0] = r.reportId;
  out.set(r.data, 1);
  return out;
}

export function fromNodeHidWrite(buf: Uint8Array): HidReport {
  return { reportId: buf[0] ?? 0, data: buf.slice(1) };
}

/** node-hid's read(): numbered reports start with their ID; unnumbered ones carry no prefix. */
export function fromNodeHidRead(buf: Uint8Array, numbered: boolean): HidReport {
  return numbered ? { reportId: buf[0] ?? 0, data: buf.slice(1) } : { reportId: 0, data: buf.slice() };
}

export function toNodeHidRead(r: HidReport, numbered: boolean): Uint8Array {
  return numbered ? toNodeHidWrite(r) : r.data.slice();
}

/* The parts of the WebHID API we use (lib.dom has no WebHID types). */
export interface HidCollectionLike {
  usagePage?: number;
  usage?: number;
  inputReports?: { reportId?: number }[];
  outputReports?: { reportId?: number }[];
}
export interface HidDeviceLike extends EventTarget {
  readonly opened: boolean;
  readonly productName: string;
  readonly vendorId: number;
  readonly productId: number;
  readonly collections: HidCollectionLike[];
  open(): Promise<void>;
  close(): Promise<void>;
  sendReport(reportId: number, data: BufferSource): Promise<void>;
}
export interface HidLike {
  requestDevice(opts: {
    filters: { vendorId?: number; productId?: number; usagePage?: number; usage?: number }[];
  }): Promise<HidDeviceLike[]>;
  getDevices(): Promise<HidDeviceLike[]>;
}

export function webHidSupport(nav: { hid?: unknown } | undefined = globalThis.navigator as never): FeatureReport {
  if (!nav?.hid) {
    return {
      available: false,
      why:
        'This browser has no WebHID (desktop Chrome, Edge and Opera have it, on https or localhost pages; Firefox and Safari do not), so the page cannot talk to USB HID tokens. ' +
        'Use a PC/SC reader through tokensmith serve instead, or the CLI on this computer.',
    };
  }
  return { available: true };
}

/** Browsers refuse devices of the FIDO usage page (0xF1D0) to pages: security keys stay out of reach. */
export const FIDO_USAGE_PAGE = 0xf1d0;

export class WebHidReportTransport implements ReportTransport {
  readonly kind = 'webhid';
  private readonly queue: HidReport[] = [];
  private readonly waiters: ((r: HidReport) => void)[] = [];
  private readonly onInput = (ev: Event) => {
    const e = ev as Event & { reportId: number; data: DataView };
    const report = {
      reportId: e.reportId,
      data: new Uint8Array(e.data.buffer.slice(e.data.byteOffset, e.data.byteOffset + e.data.byteLength)),
    };
    const w = this.waiters.shift();
    if (w) w(report);
    else this.queue.push(report);
  };

  private constructor(private readonly device: HidDeviceLike) {
    device.addEventListener('inputreport', this.onInput);
  }

  /** Asks the user to pick a device (needs a click), then opens it. */
  static async request(
    filters: { vendorId?: number; productId?: number; usagePage?: number }[],
    hid: HidLike | undefined = (globalThis.navigator as unknown as { hid?: HidLike })?.hid,
  ): Promise<WebHidReportTransport> {
    const support = webHidSupport({ hid });
    if (!support.available) throw new DeviceError(support.why!, { code: 'no-webhid' });
    if (filters.some((f) => f.usagePage === FIDO_USAGE_PAGE))
      throw new DeviceError('browsers do not let pages reach FIDO security keys over WebHID; use the CLI', {
        code: 'fido-blocked',
      });
    const [device] = await hid!.requestDevice({ filters });
    if (!device)
      throw new DeviceError("no HID device was chosen: plug the token in and choose it in the browser's list", {
        code: 'no-device',
      });
    return WebHidReportTransport.open(device);
  }

  static async open(device: HidDeviceLike): Promise<WebHidReportTransport> {
    if (!device.opened) await device.open();
    return new WebHidReportTransport(device);
  }

  get deviceName(): string {
    return hidDeviceName(this.device);
  }

  get numberedReports(): boolean {
    return this.device.collections.some((c) =>
      [...(c.inputReports ?? []), ...(c.outputReports ?? [])].some((r) => (r.reportId ?? 0) !== 0),
    );
  }

  async sendReport(report: HidReport): Promise<void> {
    // WebHID wants the report ID apart and the data without it; a copy, so the caller may wipe its buffer.
    await this.device.sendReport(report.reportId, report.data.slice());
  }

  receiveReport(timeoutMs = 5000): Promise<HidReport> {
    const ready = this.queue.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const w = (r: HidReport) => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(
          new DeviceError(
            `${this.deviceName} sent no report within ${timeoutMs} ms; unplug it, plug it in again and retry`,
            { code: 'transmit-timeout' },
          ),
        );
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async close(): Promise<void> {
    this.device.removeEventListener('inputreport', this.onInput);
    if (this.device.opened) await this.device.close();
  }
}

function hidDeviceName(d: HidDeviceLike): string {
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  return `${d.productName || 'HID device'} (${hex(d.vendorId)}:${hex(d.productId)})`;
}

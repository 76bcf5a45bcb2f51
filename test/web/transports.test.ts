// @module-tag daemon
/**
 * The browser transports inside headless Chromium (a real page, not a DOM
 * emulation): WebHID against a navigator.hid double that plays a device with
 * numbered reports, Web NFC against an NDEFReader double that plays a tag, and
 * the Token2 driver with the pure-TS SM4 flashing a simulated token in the page.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { chromiumMissing, launchChromium, type LaunchedBrowser } from './browser.js';

const missing = chromiumMissing();

/** A HID device double: numbered reports (ID 2); it answers each output report with the bytes reversed, on the same ID. */
function installHidDouble(): void {
  const sent: { reportId: number; data: number[] }[] = [];
  class FakeHidDevice extends EventTarget {
    opened = false;
    productName = 'Test OTP token';
    vendorId = 0x349e;
    productId = 0x0001;
    collections = [{ usagePage: 0xff00, usage: 1, inputReports: [{ reportId: 2 }], outputReports: [{ reportId: 2 }] }];
    async open() {
      this.opened = true;
    }
    async close() {
      this.opened = false;
    }
    async sendReport(reportId: number, data: BufferSource) {
      const bytes = Array.from(new Uint8Array(data instanceof ArrayBuffer ? data : (data as ArrayBufferView).buffer));
      sent.push({ reportId, data: bytes });
      if (bytes[0] === 0xee) return; // a command it never answers
      setTimeout(() => {
        const ev = new Event('inputreport') as Event & { reportId: number; data: DataView; device: unknown };
        ev.reportId = reportId;
        ev.data = new DataView(Uint8Array.from([...bytes].reverse()).buffer);
        this.dispatchEvent(ev);
      }, 5);
    }
  }
  const device = new FakeHidDevice();
  const hid = {
    requestDevice: async (opts: { filters: { vendorId?: number }[] }) =>
      opts.filters.some((f) => f.vendorId === 0x349e) ? [device] : [],
    getDevices: async () => [device],
  };
  Object.defineProperty(Navigator.prototype, 'hid', { configurable: true, get: () => hid });
  (window as unknown as { hidSent: unknown }).hidSent = sent;
}

/** An NDEFReader double: the first scan reads a tag with a text, a URL and a MIME record; a second reader fails. */
function installNfcDouble(): void {
  let readers = 0;
  class FakeNdefReader extends EventTarget {
    private readonly n = ++readers;
    async scan(opts?: { signal?: AbortSignal }) {
      if (this.n === 3) throw new DOMException('denied', 'NotAllowedError');
      setTimeout(() => {
        if (opts?.signal?.aborted) return;
        if (this.n === 2) {
          this.dispatchEvent(new Event('readingerror'));
          return;
        }
        const enc = (s: string) => new DataView(new TextEncoder().encode(s).buffer);
        const ev = new Event('reading') as Event & { serialNumber: string; message: unknown };
        ev.serialNumber = '04:a2:19:7c:33:5e:80';
        ev.message = {
          records: [
            { recordType: 'url', data: enc('https://example.org/t') },
            { recordType: 'text', encoding: 'utf-8', data: enc('OTPC-P2-i serial 86596220001234') },
            {
              recordType: 'mime',
              mediaType: 'application/octet-stream',
              data: new DataView(Uint8Array.from([1, 2, 3]).buffer),
            },
          ],
        };
        this.dispatchEvent(ev);
      }, 10);
    }
  }
  (window as unknown as { NDEFReader: unknown }).NDEFReader = FakeNdefReader;
}

describe.skipIf(missing !== null)(`browser transports in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let browser: LaunchedBrowser;
  let page: Page;
  let bare: Page;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('./harness.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'T',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    // Init scripts run inside a function: publish the IIFE result on window.
    const code = `${bundle.outputFiles[0]!.text};window.T = T;`;
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.addInitScript(installHidDouble);
    await page.addInitScript(installNfcDouble);
    await page.addInitScript(code);
    await page.goto('about:blank');
    // A page without the doubles, as a browser without WebHID or Web NFC (Firefox, desktop Chrome for NFC).
    bare = await browser.context.newPage();
    await bare.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'hid', { configurable: true, get: () => undefined }),
    );
    await bare.addInitScript(code);
    await bare.goto('about:blank');
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('WebHID: sends the report ID apart from the data, receives the device answer, and converts to and from node-hid framing', async () => {
    const r = await page.evaluate(async () => {
      const T = (window as any).T;
      const t = await T.WebHidReportTransport.request([{ vendorId: 0x349e }]);
      await t.sendReport({ reportId: 2, data: Uint8Array.from([0x10, 0x20, 0x30]) });
      const answer = await t.receiveReport(1000);
      const name = t.deviceName;
      const numbered = t.numberedReports;
      let timeout = '';
      await t.sendReport({ reportId: 2, data: Uint8Array.from([0xee]) });
      await t.receiveReport(100).catch((e: Error) => (timeout = e.message));
      await t.close();
      const nodeWrite = Array.from(T.toNodeHidWrite({ reportId: 2, data: Uint8Array.from([0x10, 0x20]) }));
      const unnumberedWrite = Array.from(T.toNodeHidWrite({ reportId: 0, data: Uint8Array.from([0x10]) }));
      const back = T.fromNodeHidWrite(Uint8Array.from([2, 0x10, 0x20]));
      const readNumbered = T.fromNodeHidRead(Uint8Array.from([2, 9, 8]), true);
      const readPlain = T.fromNodeHidRead(Uint8Array.from([9, 8]), false);
      return {
        sent: (window as any).hidSent,
        answer: { reportId: answer.reportId, data: Array.from(answer.data) },
        name,
        numbered,
        timeout,
        nodeWrite,
        unnumberedWrite,
        back: { reportId: back.reportId, data: Array.from(back.data) },
        readNumbered: { reportId: readNumbered.reportId, data: Array.from(readNumbered.data) },
        readPlain: { reportId: readPlain.reportId, data: Array.from(readPlain.data) },
        plainRoundTrip: Array.from(T.toNodeHidRead(readPlain, false)),
      };
    });
    expect(r.sent[0]).toEqual({ reportId: 2, data: [0x10, 0x20, 0x30] });
    expect(r.answer).toEqual({ reportId: 2, data: [0x30, 0x20, 0x10] });
    expect(r.name).toBe('Test OTP token (349e:0001)');
    expect(r.numbered).toBe(true);
    expect(r.timeout).toMatch(/sent no report within 100 ms/);
    expect(r.nodeWrite).toEqual([2, 0x10, 0x20]);
    expect(r.unnumberedWrite).toEqual([0, 0x10]);
    expect(r.back).toEqual({ reportId: 2, data: [0x10, 0x20] });
    expect(r.readNumbered).toEqual({ reportId: 2, data: [9, 8] });
    expect(r.readPlain).toEqual({ reportId: 0, data: [9, 8] });
    expect(r.plainRoundTrip).toEqual([9, 8]);
  });

  it('WebHID: no device chosen, a FIDO filter, and a browser without WebHID each fail in plain words', async () => {
    const r = await page.evaluate(async () => {
      const T = (window as any).T;
      const none = await T.WebHidReportTransport.request([{ vendorId: 0x1234 }]).catch((e: Error) => e.message);
      const fido = await T.WebHidReportTransport.request([{ usagePage: T.FIDO_USAGE_PAGE }]).catch(
        (e: Error) => e.message,
      );
      return { none, fido, here: T.webHidSupport() };
    });
    expect(r.none).toMatch(/no HID device was chosen/);
    expect(r.fido).toMatch(/do not let pages reach FIDO security keys/);
    expect(r.here).toEqual({ available: true });
    const absent = await bare.evaluate(async () => {
      const T = (window as any).T;
      return {
        support: T.webHidSupport(),
        error: await T.WebHidReportTransport.request([{ vendorId: 0x349e }]).catch((e: Error) => e.message),
      };
    });
    expect(absent.support.available).toBe(false);
    expect(absent.support.why).toMatch(/no WebHID .*Firefox and Safari do not.*PC\/SC reader through tokensmith serve/);
    expect(absent.error).toBe(absent.support.why);
  });

  it('Web NFC: reads the tag serial and records, finds the token serial; a read error, a refusal and a browser without Web NFC say what to do', async () => {
    const r = await page.evaluate(async () => {
      const T = (window as any).T;
      const tag = await T.scanTag({ timeoutMs: 2000 });
      const readError = await T.scanTag({ timeoutMs: 2000 }).catch((e: Error) => e.message);
      const refused = await T.scanTag({ timeoutMs: 2000 }).catch((e: Error) => e.message);
      return {
        serialNumber: tag.serialNumber,
        records: tag.records.map((x: any) => ({
          recordType: x.recordType,
          mediaType: x.mediaType,
          text: x.text,
          bytes: Array.from(x.bytes).length,
        })),
        token: T.tokenSerialFromTag(tag),
        noSerial: T.tokenSerialFromTag({
          serialNumber: 'x',
          records: [{ recordType: 'text', text: 'hello', bytes: new Uint8Array() }],
        }),
        readError,
        refused,
        support: T.webNfcSupport(),
      };
    });
    expect(r.serialNumber).toBe('04:a2:19:7c:33:5e:80');
    expect(r.records).toEqual([
      { recordType: 'url', text: 'https://example.org/t', bytes: 21 },
      { recordType: 'text', text: 'OTPC-P2-i serial 86596220001234', bytes: 31 },
      { recordType: 'mime', mediaType: 'application/octet-stream', bytes: 3 },
    ]);
    expect(r.token).toBe('86596220001234');
    expect(r.noSerial).toBeNull();
    expect(r.readError).toMatch(/could not be read as NDEF; tap it again, or type its serial/);
    expect(r.refused).toMatch(/not allowed to use NFC/);
    expect(r.support).toEqual({ available: true });
    const absent = await bare.evaluate(async () => {
      const T = (window as any).T;
      return {
        support: T.webNfcSupport(),
        error: await T.scanTag().catch((e: Error) => e.message),
        limit: T.WEB_NFC_LIMIT,
      };
    });
    expect(absent.support).toEqual({
      available: false,
      why: expect.stringMatching(/no Web NFC \(only Chrome on Android has it\).*Type the serial/),
    });
    expect(absent.error).toBe(absent.support.why);
    expect(absent.limit).toMatch(/cannot send the commands that program a token/);
  });

  it('the Token2 driver and the pure-TS SM4 run unchanged in the page: GB/T 32907 answer, and a flash of a simulated card (the card in Node)', async () => {
    // The simulator is a Node tool (the device side); the page reaches it through an exposed function, one APDU at a time.
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042' });
    await page.exposeFunction('tokenApdu', (hex: string) =>
      Buffer.from(sim.process(Buffer.from(hex, 'hex'))).toString('hex'),
    );
    const r = await page.evaluate(async () => {
      const T = (window as any).T;
      const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      const unhex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
      const k = unhex('0123456789abcdeffedcba9876543210');
      const kat = hex(new T.Sm4(k).encryptBlock(k));
      const transport = {
        readerName: 'page double',
        atr: new Uint8Array([0x3b, 0x80, 0x80, 0x01, 0x01]),
        kind: 'page',
        transmit: async (apdu: Uint8Array) => unhex(await (window as any).tokenApdu(hex(apdu))),
        isPresent: () => true,
        onRemoved: () => () => {},
        close: async () => {},
      };
      const seed = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
      const out = await new T.Token2Driver(transport).flash(seed, {
        algorithm: 'sha256',
        period: 60,
        displayTimeout: 60,
      });
      return { kat, serial: out.info.serial, commands: out.commands };
    });
    expect(r.kat).toBe('681edf34d206965e86b3e94f536e4246');
    expect(r.serial).toBe('86596220000042');
    expect(r.commands).toBe(8);
    expect(sim.state()).toMatchObject({
      seedHex: '0102030405060708090a0b0c0d0e0f1011121314',
      algorithm: 'sha256',
      period: 60,
      displayTimeout: 60,
      authFailures: 0,
    });
  });
});

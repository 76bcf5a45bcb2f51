/**
 * The two ways to reach the OTP application: USB HID feature reports (every
 * YubiKey with the OTP interface enabled) and CCID (a key that offers the OTP
 * AID over PC/SC, or NFC). Both answer the same slot commands.
 */
import { DeviceError } from '../../../src/core/errors.js';
import type { FeatureReportPort } from '../../../src/transport/hid-reports.js';
import { exchange } from '../../../src/transport/iso7816.js';
import type { ApduTransport } from '../../../src/transport/types.js';
import {
  RESET_REPORT,
  RESP_PENDING_FLAG,
  RESP_TIMEOUT_WAIT_FLAG,
  SEQUENCE_MASK,
  SLOT_WRITE_FLAG,
  ccidConfigApdu,
  frameReports,
  hidFrame,
  selectOtpApdu,
  statusOfReport,
} from './framing.js';
import { crcResidueOk } from './protocol.js';

export interface OtpLink {
  readonly kind: 'hid' | 'ccid';
  /** The 6 status bytes. */
  readStatus(): Promise<Uint8Array>;
  /** Sends a write; returns the status bytes after it (the caller compares the sequence). */
  write(slotCommand: number, payload: Uint8Array): Promise<Uint8Array>;
  /** Sends a command that answers data; returns `length` bytes. */
  read(slotCommand: number, length: number): Promise<Uint8Array>;
}

/** How many polls of a busy key before giving up (HID; ~2 s at the key's pace). */
const MAX_POLLS = 100;

export class HidOtpLink implements OtpLink {
  readonly kind = 'hid';
  constructor(private readonly port: FeatureReportPort) {}

  async readStatus(): Promise<Uint8Array> {
    return statusOfReport(await this.report());
  }

  private async report(): Promise<Uint8Array> {
    const r = await this.port.getFeatureReport();
    if (r.length !== 8)
      throw new DeviceError(`the YubiKey answered a ${r.length}-byte feature report, not 8`, { code: 'bad-answer' });
    return r;
  }

  /** Waits until the key has taken the previous report (it clears the write flag). */
  private async readyToWrite(): Promise<void> {
    for (let i = 0; i < MAX_POLLS; i++) {
      if (((await this.report())[7]! & SLOT_WRITE_FLAG) === 0) return;
      await this.port.pause?.(10);
    }
    throw new DeviceError('the YubiKey did not take the next report (busy); re-insert it and try again', {
      code: 'device-busy',
    });
  }

  private async send(slotCommand: number, payload: Uint8Array): Promise<void> {
    for (const r of frameReports(hidFrame(slotCommand, payload))) {
      await this.readyToWrite();
      await this.port.sendFeatureReport(r);
    }
  }

  async write(slotCommand: number, payload: Uint8Array): Promise<Uint8Array> {
    await this.send(slotCommand, payload);
    for (let i = 0; i < MAX_POLLS; i++) {
      const r = await this.report();
      if (r[7] === 0) return statusOfReport(r);
      if (r[7]! & RESP_TIMEOUT_WAIT_FLAG)
        throw new DeviceError(
          'the YubiKey waits for a touch, which an OATH-HOTP write never needs; re-insert it and try again',
          { code: 'device-busy' },
        );
      await this.port.pause?.(20);
    }
    throw new DeviceError('the YubiKey did not finish the write in time', { code: 'device-busy' });
  }

  async read(slotCommand: number, length: number): Promise<Uint8Array> {
    await this.send(slotCommand, new Uint8Array(0));
    const chunks: number[] = [];
    for (let expect = 0, polls = 0; polls < MAX_POLLS; polls++) {
      const r = await this.report();
      const flag = r[7]!;
      if ((flag & RESP_PENDING_FLAG) === 0) {
        if (flag === 0)
          throw new DeviceError(`the YubiKey refused slot command 0x${slotCommand.toString(16)}`, {
            code: 'command-rejected',
          });
        await this.port.pause?.(20);
        continue;
      }
      if ((flag & SEQUENCE_MASK) === expect) {
        chunks.push(...r.subarray(0, 7));
        expect++;
      } else if ((flag & SEQUENCE_MASK) === 0) {
        await this.port.sendFeatureReport(RESET_REPORT);
        const data = Uint8Array.from(chunks.slice(0, length + 2));
        if (!crcResidueOk(data))
          throw new DeviceError('the YubiKey answer failed its CRC check', { code: 'bad-answer' });
        return data.slice(0, length);
      }
    }
    throw new DeviceError('the YubiKey did not finish its answer in time', { code: 'device-busy' });
  }
}

export class CcidOtpLink implements OtpLink {
  readonly kind = 'ccid';
  private selected: Uint8Array | null = null;
  constructor(private readonly transport: ApduTransport) {}

  private async select(): Promise<Uint8Array> {
    if (this.selected) return this.selected;
    const r = await exchange(this.transport, selectOtpApdu());
    if (r.sw === 0x6a82)
      throw new DeviceError(
        `the token on ${this.transport.readerName} has no YubiKey OTP application (SELECT answered 6A82); use its USB HID interface`,
        { code: 'no-otp-application' },
      );
    if (r.sw !== 0x9000 || r.data.length < 6)
      throw new DeviceError(`SELECT of the OTP application answered ${r.sw.toString(16).toUpperCase()}`, {
        code: 'bad-answer',
      });
    this.selected = r.data.slice(0, 6);
    return this.selected;
  }

  readStatus(): Promise<Uint8Array> {
    return this.select();
  }

  async write(slotCommand: number, payload: Uint8Array): Promise<Uint8Array> {
    await this.select();
    const r = await exchange(this.transport, ccidConfigApdu(slotCommand, payload));
    if (r.sw !== 0x9000 || r.data.length < 6)
      throw new DeviceError(`the YubiKey refused the write (status ${r.sw.toString(16).toUpperCase()})`, {
        code: 'command-rejected',
      });
    // Over CCID the status is only ever answered, never polled: the latest answer is the current status.
    this.selected = r.data.slice(0, 6);
    return this.selected;
  }

  async read(slotCommand: number, length: number): Promise<Uint8Array> {
    await this.select();
    const r = await exchange(this.transport, ccidConfigApdu(slotCommand, new Uint8Array(0)));
    if (r.sw !== 0x9000 || r.data.length !== length)
      throw new DeviceError(
        `slot command 0x${slotCommand.toString(16)} answered ${r.data.length} bytes, status ${r.sw.toString(16).toUpperCase()}`,
        { code: 'bad-answer' },
      );
    return r.data;
  }
}

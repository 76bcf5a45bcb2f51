/**
 * The YubiKey OTP driver: reads the status and serial, and writes an
 * OATH-HOTP credential into slot 1 or 2 over either link (HID or CCID). A
 * write the key refuses (a wrong access code) leaves the programming
 * sequence where it was: the driver reads that as "refused" and never retries.
 */
import { DeviceError } from '../../../src/core/errors.js';
import type { OtpLink } from './link.js';
import {
  SLOT_CMD,
  configCommandOf,
  configWritePayload,
  encodeSlotConfig,
  hotpSlotConfig,
  parseStatus,
  type HotpSlotSettings,
  type OtpStatus,
} from './protocol.js';

export interface YubiOtpInfo {
  status: OtpStatus;
  /** The serial number, or null where the key hides it (serial-API-visible off). */
  serial: number | null;
  link: 'hid' | 'ccid';
}

/** Whether a write took: the sequence went up by one, or (as yubikit accepts) fell to 0 because no slot is left configured. */
export function writeAccepted(before: OtpStatus, after: OtpStatus, link: 'hid' | 'ccid'): boolean {
  if (after.sequence === ((before.sequence + 1) & 0xff)) return true;
  if (after.sequence !== 0 || before.sequence === 0) return false;
  const [major, minor] = after.version;
  // Over CCID, firmware 4.0 to 5.4 does not move the sequence at all (yubikit/yubiotp.py notes this).
  if (link === 'ccid' && major >= 4 && (major < 5 || minor < 5)) return true;
  return (after.touchLevel & 0x1f) === 0;
}

export class YubiOtpDriver {
  constructor(private readonly link: OtpLink) {}

  async status(): Promise<OtpStatus> {
    return parseStatus(await this.link.readStatus());
  }

  async readInfo(): Promise<YubiOtpInfo> {
    const status = await this.status();
    let serial: number | null = null;
    try {
      const b = await this.link.read(SLOT_CMD.DEVICE_SERIAL, 4);
      serial = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    } catch (e) {
      // A key programmed without serial-API-visible refuses this: the serial is then unknown, not an error.
      if (!(e instanceof DeviceError && e.code === 'command-rejected')) throw e;
    }
    return { status, serial, link: this.link.kind };
  }

  /** The exact bytes a CONFIG write of this credential carries (config record + current access code). */
  static hotpPayload(settings: HotpSlotSettings, currentAccessCode?: Uint8Array): Uint8Array {
    return configWritePayload(encodeSlotConfig(hotpSlotConfig(settings)), currentAccessCode);
  }

  /**
   * Writes OATH-HOTP into `slot` once. `currentAccessCode` is the slot's
   * access code if it has one. A refusal throws `access-code-rejected` (exit 3).
   */
  async programHotp(
    slot: 1 | 2,
    settings: HotpSlotSettings,
    currentAccessCode?: Uint8Array,
    before?: OtpStatus,
  ): Promise<OtpStatus> {
    const payload = YubiOtpDriver.hotpPayload(settings, currentAccessCode);
    const start = before ?? (await this.status());
    const after = parseStatus(await this.link.write(configCommandOf(slot), payload));
    payload.fill(0);
    if (!writeAccepted(start, after, this.link.kind)) {
      throw new DeviceError(
        `the YubiKey refused the write to slot ${slot}: ${currentAccessCode ? 'the access code given is wrong' : 'the slot is protected by an access code (give --access-code)'}; nothing was written, and tokensmith does not try again`,
        { code: 'access-code-rejected' },
      );
    }
    return after;
  }
}

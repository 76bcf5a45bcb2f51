/** This family in the station page: its USB HID keys cannot be reached from a page, and the page says what to do instead. */
import type { PageFamily } from '../family.js';

export const yubikeyPage: PageFamily = {
  name: 'yubikey',
  webHid: {
    programs: false,
    // Chromium's WebHID blocklist names every product of vendor 0x1050, the OTP (keyboard) interface included.
    why: 'the USB HID tokens it knows are YubiKeys, which the browser blocks for every page. Program a YubiKey on this computer with `tokensmith device flash --model yubikey-otp`.',
  },
};

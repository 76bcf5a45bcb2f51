/**
 * The token families this build programs over WebHID from the page. None
 * today: the only USB HID tokens it knows are YubiKeys, and Chromium blocks
 * every YubiKey for web pages. The station offers its WebHID control only
 * when this list is not empty, and otherwise says why in one line.
 */
export const WEBHID_FAMILIES: readonly string[] = [];

export const NO_WEBHID_FAMILY =
  'No token family of this build is programmed over WebHID: the USB HID tokens it knows are YubiKeys, which the browser blocks for every page. Program a YubiKey on this computer with `tokensmith device flash --model yubikey-otp`.';

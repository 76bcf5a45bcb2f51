/** What the `device` commands' help says of YubiKeys (src/cli/commands/device-help.ts assembles it). */
import type { FamilyHelp } from '../family.js';

export const YUBIKEY_HELP: FamilyHelp = {
  label: 'YubiKey',
  listed: 'the YubiKeys on USB HID',
  devices: [
    { via: 'a PC/SC reader', what: 'YubiKey OATH' },
    { via: 'USB HID', what: 'YubiKey OTP slots' },
  ],
  verbs: {
    flash: {
      takes: ['--batch'],
      sections: [
        {
          heading: 'YubiKey (OATH): one credential per flash, one store token per credential:',
          lines: [
            'tokensmith device flash --model yubikey-oath --name alice --issuer Corp --algorithm sha256 --digits 8 --period 60 --yes',
            'tokensmith device flash --model yubikey-oath --batch 20 --password-file oath.pw --yes',
          ],
        },
        {
          heading:
            'YubiKey OTP (OATH-HOTP in slot 1 or 2, registered as UBOM<serial>_<slot>; USB HID, or CCID with --reader):',
          lines: [
            'tokensmith device flash --model yubikey-otp --slot 2 --digits 8 --counter 0 --yes',
            'tokensmith device flash --model yubikey-otp --slot 1 --access-code - --force --yes   (a protected slot: the code is tried once)',
          ],
        },
      ],
    },
    profiles: {
      what: 'a YubiKey (--model yubikey-oath): its OATH credentials',
      examples: ['tokensmith device profiles --model yubikey-oath --password-file oath.pw'],
    },
    erase: {
      what: 'a YubiKey: one OATH credential, --model yubikey-oath --name',
      examples: ['tokensmith device erase --model yubikey-oath --name Corp:alice --yes'],
    },
  },
};

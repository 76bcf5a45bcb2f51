/**
 * What `device <verb>` needs from the yubikey family beyond its driver: the
 * harmless probe that tells a YubiKey, the verbs, and the flags of its two
 * models. The family's `flags` table is per verb for the whole family, so
 * checkYubikeyModel refuses by name a verb or a flag of the other model.
 */
import { UsageError } from '../../src/core/errors.js';
import { exchange, SW_OK } from '../../src/transport/iso7816.js';
import type { ApduTransport } from '../../src/transport/types.js';
import { RECORD_FLAG, type DeviceVerb, type FamilyFlag } from '../family.js';
import { INS, parseSelect, selectOathApdu } from './oath-protocol.js';

const OATH = 'yubikey-oath';
const OTP = 'yubikey-otp';

/** SELECT of the OATH application (a read: no credential is touched); an answer with a version (79) and salt (71) is a YubiKey's. */
export async function detectYubikey(transport: ApduTransport): Promise<string | null> {
  const r = await exchange(transport, selectOathApdu(), { getResponseClass: 0x00, remainingIns: INS.sendRemaining });
  if (r.sw !== SW_OK) return null;
  try {
    parseSelect(r.data);
    return OATH;
  } catch {
    return null;
  }
}

export const YUBIKEY_VERBS: readonly DeviceVerb[] = ['info', 'flash', 'verify', 'profiles', 'erase'];
const MODEL_VERBS: Record<string, readonly DeviceVerb[]> = { [OATH]: YUBIKEY_VERBS, [OTP]: ['info', 'flash'] };

const password: readonly FamilyFlag[] = [
  {
    flag: '--password <pw>',
    description:
      'YubiKey OATH: the access password (seen by other users in the process list: prefer --password-file or the prompt)',
  },
  {
    flag: '--password-file <file>',
    description: 'YubiKey OATH: read the access password from the first line of this file',
  },
];
const hidPath: FamilyFlag = {
  flag: '--hid-path <path>',
  description: 'YubiKey OTP: the HID device to use when several keys are plugged in (`device list` shows them)',
};

/** The flags per verb; which model takes which is in MODEL_FLAGS. */
export const YUBIKEY_FLAGS: Partial<Record<DeviceVerb, readonly FamilyFlag[]>> = {
  info: [...password, hidPath],
  verify: [
    ...password,
    {
      flag: '--name <credential>',
      description: 'YubiKey OATH: the full credential name to check (needed when the key holds several)',
    },
  ],
  profiles: password,
  erase: [
    ...password,
    {
      flag: '--name <credential>',
      description: 'YubiKey OATH: the full name of the credential to delete (as `device profiles` lists it)',
    },
  ],
  flash: [
    ...password,
    {
      flag: '--name <account>',
      description: 'YubiKey OATH: the account name of the credential (default: its store serial)',
    },
    { flag: '--issuer <issuer>', description: 'YubiKey OATH: the issuer, written before the name ("issuer:name")' },
    { flag: '--type <type>', description: 'YubiKey OATH: totp (default) or hotp' },
    { flag: '--touch', description: 'YubiKey OATH: every code needs a touch of the key' },
    {
      flag: '--counter <n>',
      description:
        'YubiKey: the first HOTP counter (OATH: default 0; OTP: the initial moving factor, a multiple of 16, default 0)',
    },
    { flag: '--slot <n>', description: 'YubiKey OTP: the slot to program, 1 or 2' },
    {
      flag: '--token-id <hex>',
      description: 'YubiKey OTP: an OATH token identifier the key types before each code (up to 16 bytes, hex)',
    },
    {
      flag: '--access-code <hex>',
      description:
        "YubiKey OTP: the slot's access code, 12 hex digits, or '-' to be asked; tried once, and kept on the slot",
    },
    { flag: '--access-code-file <path>', description: 'YubiKey OTP: read the access code from this file' },
    hidPath,
    // Both models' flashes record a session.
    RECORD_FLAG,
  ],
};

/** commander's key for each flag only one model takes. */
const MODEL_FLAGS: Record<string, readonly string[]> = {
  [OATH]: ['password', 'passwordFile', 'name', 'issuer', 'type', 'touch'],
  [OTP]: ['slot', 'tokenId', 'accessCode', 'accessCodeFile', 'hidPath'],
};
const spelled = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** A verb or flag of the other YubiKey model, refused by name before the key is opened (undefined: nothing to refuse). */
export function checkYubikeyModel(
  verb: DeviceVerb,
  model: string,
  options: Readonly<Record<string, string | boolean | undefined>>,
): Error | undefined {
  const verbs = MODEL_VERBS[model] ?? YUBIKEY_VERBS;
  // A Token2 setting no YubiKey has (its own message, as before the family was on the registry).
  if (options.displayTimeout !== undefined)
    return new UsageError(
      `--display-timeout is not for a YubiKey (${OATH} takes --name, --issuer, --type, --algorithm, --digits, --period, --counter, --touch; ${OTP} --slot, --digits, --counter, --token-id, --access-code)`,
      'option-not-supported',
    );
  if (!verbs.includes(verb))
    return new UsageError(
      `${model} has no '${verb}' (${model} supports ${verbs.map((v) => `device ${v}`).join(', ')}; the OATH application's credentials are --model ${OATH})`,
      'no-such-verb',
    );
  for (const [owner, keys] of Object.entries(MODEL_FLAGS)) {
    if (owner === model) continue;
    const stray = keys.find((k) => options[k] !== undefined && !(MODEL_FLAGS[model] ?? []).includes(k));
    if (stray)
      return new UsageError(
        `${model} has no ${spelled(stray)} for device ${verb} (${spelled(stray)} is for ${owner})`,
        'no-such-flag',
      );
  }
  return undefined;
}

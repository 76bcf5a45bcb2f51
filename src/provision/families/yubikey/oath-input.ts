/** A YubiKey OATH flash's input: the settings the command line gives, checked (usage errors name the flag), and the credential's name. */
import { decodeBase32 } from '../../../core/codecs.js';
import { DataError, UsageError } from '../../../core/errors.js';
import type { PasswordSource } from '../../../../drivers/yubikey/oath-driver.js';
import {
  MAX_NAME_BYTES,
  OATH_ALGORITHMS,
  formatCredentialName,
  type OathAlgorithm,
  type OathType,
} from '../../../../drivers/yubikey/oath-protocol.js';
import { refuseUserWithoutResource } from '../flash-options.js';

export interface OathCommon {
  password?: PasswordSource;
  now?: () => number;
}

export interface OathFlashInput extends OathCommon {
  /** The account part of the name; default: the store serial. */
  account?: string;
  issuer?: string;
  type: OathType;
  algorithm: OathAlgorithm;
  digits: number;
  period: number;
  touch: boolean;
  counter: number;
  seed?: Uint8Array;
  force?: boolean;
  resource?: string;
  user?: string;
  batchId?: number;
}

/** CLI values -> a checked OathFlashInput (usage errors name the flag). */
export function parseOathFlashInput(raw: {
  name?: string;
  issuer?: string;
  type?: string;
  algorithm?: string;
  digits?: string;
  period?: string;
  touch?: boolean;
  counter?: string;
  seed?: string;
  force?: boolean;
  resource?: string;
  user?: string;
}): OathFlashInput {
  const type = (raw.type ?? 'totp').toLowerCase();
  if (type !== 'totp' && type !== 'hotp') throw new UsageError(`--type: totp or hotp, not '${raw.type}'`, 'bad-type');
  const algorithm = (raw.algorithm ?? 'sha1').toLowerCase().replace('-', '') as OathAlgorithm;
  if (!OATH_ALGORITHMS.includes(algorithm))
    throw new UsageError(`--algorithm: a YubiKey does sha1, sha256 or sha512, not '${raw.algorithm}'`, 'bad-algorithm');
  const digits = Number(raw.digits ?? 6);
  if (![6, 7, 8].includes(digits))
    throw new UsageError(`--digits: a YubiKey shows 6, 7 or 8 digits, not '${raw.digits}'`, 'bad-digits');
  const period = Number(raw.period ?? 30);
  if (!Number.isInteger(period) || period < 1 || period > 3600 || (type === 'hotp' && raw.period !== undefined))
    throw new UsageError(`--period: whole seconds from 1 to 3600, for TOTP only; not '${raw.period}'`, 'bad-period');
  const counter = Number(raw.counter ?? 0);
  if (
    !Number.isInteger(counter) ||
    counter < 0 ||
    counter > 0xffffffff ||
    (type === 'totp' && raw.counter !== undefined)
  )
    throw new UsageError(
      `--counter: the first HOTP counter, 0 to 4294967295, for HOTP only; not '${raw.counter}'`,
      'bad-counter',
    );
  if (raw.issuer !== undefined && (raw.issuer === '' || raw.issuer.includes(':')))
    throw new UsageError(
      `--issuer: a name without ':' (it separates issuer and account), not '${raw.issuer}'`,
      'bad-issuer',
    );
  refuseUserWithoutResource(raw);
  const seed = raw.seed === undefined ? undefined : decodeBase32(raw.seed, '--seed');
  if (seed && (seed.length < 1 || seed.length > 64))
    throw new DataError(`--seed is ${seed.length} bytes; a YubiKey credential takes 1 to 64`, {
      code: 'bad-seed-length',
    });
  const input: OathFlashInput = {
    account: raw.name,
    issuer: raw.issuer,
    type,
    algorithm,
    digits,
    period: type === 'hotp' ? 30 : period,
    touch: Boolean(raw.touch),
    counter,
    seed,
    force: raw.force,
    resource: raw.resource,
    user: raw.user,
  };
  if (raw.name !== undefined) credentialNameOf(input, raw.name);
  return input;
}

/** The full name on the key, checked for length. */
export function credentialNameOf(input: OathFlashInput, account: string): string {
  const name = formatCredentialName({ issuer: input.issuer, account, period: input.period, type: input.type });
  if (account === '' || Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES)
    throw new UsageError(
      `--name: the credential name '${name}' must be 1 to ${MAX_NAME_BYTES} bytes with its issuer and period`,
      'bad-name',
    );
  return name;
}

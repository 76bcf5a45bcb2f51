/**
 * A Molto2 profile flash's input: the settings the command line or the station
 * form gives, checked (usage errors name the flag), the profile's store serial,
 * and the driver with the customer key.
 */
import { decodeBase32 } from '../../../core/codecs.js';
import { DataError, UsageError } from '../../../core/errors.js';
import type { TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import { Molto2Driver, type Molto2Settings } from '../../../../drivers/token2-molto2/driver.js';
import {
  DISPLAY_TIMEOUTS,
  FACTORY_CUSTOMER_KEY,
  MAX_SEED_BYTES,
  MAX_TITLE_BYTES,
  isDigits,
  parseCustomerKey,
  type DisplayTimeoutSeconds,
} from '../../../../drivers/token2-molto2/protocol.js';
import { refuseUserWithoutResource } from '../flash-options.js';

export const MOLTO2_MANUFACTURER = 'Token2';

/** The store serial of one profile: `2310000001-03`. */
export function profileSerial(deviceSerial: string, profile: number): string {
  return `${deviceSerial}-${String(profile).padStart(2, '0')}`;
}

export interface Molto2Common {
  /** Raw --customer-key (hex or ASCII); the factory key when absent. Never logged. */
  customerKey?: string;
  now?: () => number;
  onStep?: (s: string) => void;
}

export interface ProfileFlashInput extends Molto2Common {
  profile: number;
  seed?: Uint8Array;
  settings: Molto2Settings;
  title?: string;
  force?: boolean;
  resource?: string;
  user?: string;
  batchId?: number;
  /** Asked once the device is identified, before anything is written; false stops with nothing written. */
  confirm?: (deviceSerial: string, existing: TokenRecord | null) => Promise<boolean>;
}

/** The driver for the token, with the customer key given (or the factory one). */
export function driverFor(transport: ApduTransport, c: Molto2Common): Molto2Driver {
  let key: Uint8Array = FACTORY_CUSTOMER_KEY;
  if (c.customerKey !== undefined) {
    try {
      key = parseCustomerKey(c.customerKey);
    } catch (e) {
      throw new UsageError(`--customer-key: ${(e as Error).message}`, 'bad-customer-key');
    }
  }
  return new Molto2Driver(transport, { customerKey: key, now: c.now, onStep: c.onStep });
}

export function parseProfileNumber(raw: string | number | undefined, flag = '--profile'): number {
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isInteger(n) || n < 0 || n > 99)
    throw new UsageError(
      `${flag}: give a profile number from 0 to 99 (0 to 49 on a Molto2), not '${raw ?? ''}'`,
      'bad-profile',
    );
  return n;
}

/** CLI/web values -> a checked ProfileFlashInput (usage errors name the flag). */
export function parseProfileFlashInput(raw: {
  profile?: string;
  seed?: string;
  algorithm?: string;
  digits?: string;
  period?: string;
  displayTimeout?: string;
  title?: string;
  customerKey?: string;
  force?: boolean;
  resource?: string;
  user?: string;
}): ProfileFlashInput {
  const profile = parseProfileNumber(raw.profile);
  const algorithm = (raw.algorithm ?? 'sha1').toLowerCase().replace('-', '');
  if (algorithm !== 'sha1' && algorithm !== 'sha256')
    throw new UsageError(`--algorithm: the Molto2 does sha1 or sha256, not '${raw.algorithm}'`, 'bad-algorithm');
  const digits = Number(raw.digits ?? 6);
  if (!isDigits(digits))
    throw new UsageError(`--digits: the Molto2 shows 4, 6, 8 or 10 digits, not '${raw.digits}'`, 'bad-digits');
  const period = Number(raw.period ?? 30);
  if (period !== 30 && period !== 60)
    throw new UsageError(`--period: the Molto2 steps 30 or 60 seconds, not '${raw.period}'`, 'bad-period');
  const displayTimeout = Number(raw.displayTimeout ?? 30);
  if (!(DISPLAY_TIMEOUTS as readonly number[]).includes(displayTimeout))
    throw new UsageError(
      `--display-timeout: use 15, 30, 60 or 120 seconds, not '${raw.displayTimeout}'`,
      'bad-display-timeout',
    );
  if (
    raw.title !== undefined &&
    (Buffer.byteLength(raw.title, 'utf8') < 1 || Buffer.byteLength(raw.title, 'utf8') > MAX_TITLE_BYTES)
  ) {
    throw new UsageError(
      `--title: 1 to ${MAX_TITLE_BYTES} bytes (UTF-8), '${raw.title}' is ${Buffer.byteLength(raw.title, 'utf8')}`,
      'bad-title',
    );
  }
  refuseUserWithoutResource(raw);
  let seed: Uint8Array | undefined;
  if (raw.seed !== undefined) {
    seed = decodeBase32(raw.seed, '--seed');
    if (seed.length > MAX_SEED_BYTES)
      throw new DataError(`--seed is ${seed.length} bytes; a Molto2 profile takes 1 to ${MAX_SEED_BYTES}`, {
        code: 'bad-seed-length',
      });
    if (seed.every((b) => b === 0))
      throw new DataError(
        '--seed is all zeros, which the Molto2 takes as "clear the profile"; use `tokensmith device erase --profile n` for that',
        { code: 'bad-seed' },
      );
  }
  return {
    profile,
    seed,
    settings: { algorithm, digits, period, displayTimeout: displayTimeout as DisplayTimeoutSeconds },
    title: raw.title,
    customerKey: raw.customerKey,
    force: raw.force,
    resource: raw.resource,
    user: raw.user,
  };
}

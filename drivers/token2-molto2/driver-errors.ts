/** The Molto2 driver's steps and errors: each names the step it stopped at, in words an operator reads. */
import { DataError, DeviceError, type TokensmithError } from '../../src/core/errors.js';
import { statusWordMeaning, swHex } from './protocol.js';

export type Molto2Step =
  | 'info'
  | 'readProfile'
  | 'challenge'
  | 'authenticate'
  | 'deleteSeed'
  | 'writeSeed'
  | 'writeTitle'
  | 'writeConfig'
  | 'syncTime'
  | 'screen'
  | 'changeKey'
  | 'factoryReset'
  | 'verify';

/** Each step in words (progress lines and errors). */
export const STEP_WORDS: Record<Molto2Step, string> = {
  info: 'reading the device info',
  readProfile: "reading the profile's public block",
  challenge: 'getting the challenge',
  authenticate: 'authenticating with the customer key',
  deleteSeed: 'deleting the seed',
  writeSeed: 'writing the seed',
  writeTitle: 'writing the title',
  writeConfig: 'writing the config (clock, algorithm, digits, time step, display timeout)',
  syncTime: "setting the profile's clock",
  screen: 'locking or unlocking the screen',
  changeKey: 'changing the customer key',
  factoryReset: 'asking for a factory reset',
  verify: 'reading the profile back',
};

export class Molto2StatusError extends DeviceError {
  constructor(
    readonly step: Molto2Step,
    readonly sw: number,
    serial?: string,
  ) {
    super(`${STEP_WORDS[step]}: the Molto2 answered ${swHex(sw)} (${statusWordMeaning(sw)})`, {
      code: 'status-word',
      where: serial,
    });
  }
}

/** 63NN or a blocked key; never retried (exit 3). */
export class Molto2AuthError extends DeviceError {
  constructor(
    readonly sw: number,
    readonly triesLeft: number,
    serial?: string,
  ) {
    super(
      `the Molto2${serial ? ` ${serial}` : ''} refused the customer key (${swHex(sw)}: ${statusWordMeaning(sw)}); ${triesLeft} tr${triesLeft === 1 ? 'y' : 'ies'} left. ` +
        (triesLeft === 0
          ? 'The key is blocked: only a factory reset (which erases every profile) makes the device usable again.'
          : 'tokensmith did not retry: check --customer-key (the default is the factory key) before trying again.'),
      { code: 'auth-failed', where: serial },
    );
  }
}

export class Molto2EmptySlotError extends DataError {
  constructor(profile: number, serial?: string) {
    super(`profile ${profile} of the Molto2${serial ? ` ${serial}` : ''} is empty (6A83): there is no seed to erase`, {
      code: 'profile-empty',
      where: serial,
    });
  }
}

/** A write sequence that stopped part-way, with what the profile now holds. */
export class Molto2WriteError extends DeviceError {
  constructor(
    readonly profile: number,
    readonly step: Molto2Step,
    readonly written: Molto2Step[],
    serial: string | undefined,
    readonly reason: TokensmithError,
  ) {
    const held =
      written.length === 0
        ? 'Nothing was written: the profile is as it was.'
        : `Already written: ${written.map((s) => STEP_WORDS[s].replace(/^writing |^deleting |^setting /, '')).join(', ')}; write the profile again (with --force if it now holds a seed).`;
    super(
      `profile ${profile}${serial ? ` of ${serial}` : ''}: stopped while ${STEP_WORDS[step]}: ${reason.message}. ${held}`,
      { code: reason.code, where: serial, cause: reason },
    );
  }
}

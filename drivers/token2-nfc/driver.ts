/**
 * Runs the Token2 command sequences over any APDU transport. Flash = info,
 * authenticate, config, authenticate, seed, then info again as the check.
 * A failed authentication is never retried: on some tokens repeated failures
 * lock the key for good.
 */
import { DeviceError, TokensmithError, UsageError } from '../../src/core/errors.js';
import { exchange } from '../../src/transport/iso7816.js';
import type { ApduTransport } from '../../src/transport/types.js';
import {
  SW,
  buildAuthenticate,
  buildGetChallenge,
  buildGetInfo,
  buildWriteConfig,
  buildWriteSeed,
  parseChallenge,
  parseInfo,
  productForSerial,
  statusWordMeaning,
  swHex,
  wipesSeedOnConfig,
  ProtocolError,
  type ChallengeForm,
  type DisplayTimeoutSeconds,
  type Token2Algorithm,
  type Token2Model,
  type Token2Period,
} from './protocol.js';

export interface Token2DeviceInfo {
  serial: string;
  /** The model: forced with --model, else from the serial prefix. */
  model: Token2Model;
  /** The product name from the serial prefix ("OTPC-P2-i"), when known. */
  product: string | null;
  /** The token's clock, UTC seconds. */
  deviceTime: number;
  /** The token's clock minus the host's, in seconds. */
  offset: number;
  /** Whether a config write (a clock sync) wipes the seed on this model. */
  wipesSeedOnConfig: boolean;
}

export interface Token2Settings {
  algorithm: Token2Algorithm;
  period: Token2Period;
  displayTimeout: DisplayTimeoutSeconds;
}

export interface WriteOutcome {
  info: Token2DeviceInfo;
  /** The UTC seconds written into the token's clock. */
  timeWritten: number;
  /** The token's clock minus the host's after the write, from the read-back. */
  offsetAfter: number;
  /** Commands sent for this operation. */
  commands: number;
}

/** What a caller decides once it knows the token (settings and seed from the store, for a sync). */
export interface WritePlan {
  settings?: Token2Settings;
  seed?: Uint8Array | null;
}

/** Called after the info read and before the first write; throw to stop with nothing written. */
export type BeforeWrite = (info: Token2DeviceInfo) => Promise<WritePlan | void> | WritePlan | void;

export interface DriverOptions {
  /** Host clock in ms: the time written into the token (fixed on replay). */
  now?: () => number;
  timeoutMs?: number;
  /** Forces the model (--model) instead of the serial prefix. */
  model?: Token2Model;
  /** Progress for spinners: "authenticating", "writing the seed" ... */
  onStep?: (step: string) => void;
}

export type Token2Step = 'info' | 'challenge' | 'authenticate' | 'writeConfig' | 'writeSeed' | 'verify';

const STEP_WORDS: Record<Token2Step, string> = {
  info: 'reading the token info',
  challenge: 'getting the challenge',
  authenticate: 'authenticating',
  writeConfig: 'writing the config (clock, algorithm, time step, display timeout)',
  writeSeed: 'writing the seed',
  verify: 'reading the info back',
};

/** A status word other than 9000 (exit 3). */
export class Token2StatusError extends DeviceError {
  constructor(
    readonly step: Token2Step,
    readonly sw: number,
    serial?: string,
  ) {
    super(`${STEP_WORDS[step]}: the token answered ${swHex(sw)} (${statusWordMeaning(sw)})`, {
      code: 'status-word',
      where: serial,
    });
  }
}

/** The token refused the authentication; never retried (exit 3). */
export class AuthenticationFailedError extends DeviceError {
  constructor(
    readonly sw: number,
    serial?: string,
  ) {
    super(
      `the token${serial ? ` ${serial}` : ''} refused the authentication (${swHex(sw)}: ${statusWordMeaning(sw)}). ` +
        'tokensmith did not retry and will not: repeated failed authentications can lock some tokens for good. ' +
        'Check that this is a Token2 programmable token with the factory key before trying again by hand.',
      { code: 'auth-failed', where: serial },
    );
  }
}

/**
 * A write sequence that stopped part-way. It says what the token now holds,
 * so that the operator knows the exact state.
 */
export class Token2WriteError extends DeviceError {
  constructor(
    readonly operation: 'flash' | 'sync',
    readonly step: Token2Step,
    readonly configWritten: boolean,
    readonly seedWritten: boolean,
    readonly wipesSeed: boolean,
    readonly serial: string | undefined,
    readonly reason: TokensmithError,
  ) {
    // A status word means the token refused the command; a lost token may have applied it or not.
    const uncertain =
      (step === 'writeConfig' || step === 'writeSeed') && !(reason instanceof Token2StatusError) ? step : undefined;
    super(
      `${operation}${serial ? ` of ${serial}` : ''} stopped while ${STEP_WORDS[step]}: ${reason.message}. ${tokenStateWords(configWritten, seedWritten, wipesSeed, operation, uncertain)}`,
      {
        code: reason.code,
        where: serial,
        cause: reason,
      },
    );
  }
}

export function tokenStateWords(
  configWritten: boolean,
  seedWritten: boolean,
  wipesSeed: boolean,
  operation: 'flash' | 'sync' = 'flash',
  uncertain?: 'writeConfig' | 'writeSeed',
): string {
  const again =
    operation === 'flash' ? 'flash it again' : 'run `tokensmith device sync` again to write it back from the store';
  if (seedWritten)
    return `Config and seed were written, but the final check did not pass; read it with \`tokensmith device info\` and ${again} if in doubt.`;
  if (uncertain === 'writeSeed')
    return `Config written; the seed write was cut off, so the token may hold the new seed or none (the old seed may be wiped); ${again}.`;
  if (configWritten || uncertain === 'writeConfig') {
    const head = configWritten
      ? 'Config written, seed not written'
      : 'The config write was cut off (it may or may not have reached the token), seed not written';
    return wipesSeed
      ? `${head}: this model wipes its seed on a config write, so the seed may be wiped and the token may show no valid codes; ${again}.`
      : operation === 'flash'
        ? `${head}: this model keeps its old seed on a config write; flash it again to give it the new one.`
        : `${head}: the seed was not touched.`;
  }
  return 'Nothing was written: the token is as it was.';
}

export class Token2Driver {
  private sent = 0;
  private challengeForm: ChallengeForm = 'lc';
  private readonly now: () => number;

  constructor(
    readonly transport: ApduTransport,
    private readonly opts: DriverOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Commands sent so far (the bench counts them). */
  get commandCount(): number {
    return this.sent;
  }

  private hostSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** One command through the ISO 7816 layer (61xx / 6Cxx followed, GET RESPONSE in the command's class), then the status word checked. */
  private async command(step: Token2Step, apdu: Uint8Array, serial?: string): Promise<Uint8Array> {
    this.opts.onStep?.(STEP_WORDS[step]);
    const resp = await exchange(this.transport, apdu, { timeoutMs: this.opts.timeoutMs, getResponseClass: 'command' });
    this.sent += resp.transmits;
    const data = resp.data;
    if (resp.sw !== SW.ok) {
      if (step === 'authenticate' && resp.sw === SW.authFailed) throw new AuthenticationFailedError(resp.sw, serial);
      throw new Token2StatusError(step, resp.sw, serial);
    }
    return data;
  }

  async readInfo(step: Token2Step = 'info'): Promise<Token2DeviceInfo> {
    const data = await this.command(step, buildGetInfo());
    let parsed;
    try {
      parsed = parseInfo(data);
    } catch (e) {
      if (e instanceof ProtocolError)
        throw new DeviceError(`this does not look like a Token2 programmable token: ${e.message}`, {
          code: 'bad-answer',
        });
      throw e;
    }
    const product = productForSerial(parsed.serial);
    const model = this.opts.model ?? product?.model;
    if (!model) {
      throw new UsageError(
        `serial ${parsed.serial} has no known Token2 prefix; if you know the model, say it with --model token2-card|token2-fob|token2-fob-c302`,
        'unknown-model',
      );
    }
    return {
      serial: parsed.serial,
      model,
      product: product?.product ?? null,
      deviceTime: parsed.deviceTime,
      offset: parsed.deviceTime - this.hostSeconds(),
      wipesSeedOnConfig: wipesSeedOnConfig(model),
    };
  }

  /** Challenge then answer; one attempt only. */
  async authenticate(serial?: string): Promise<void> {
    let data: Uint8Array;
    try {
      data = await this.command('challenge', buildGetChallenge(this.challengeForm), serial);
    } catch (e) {
      // A token that refuses the length of one challenge form gets the other, once; this is no authentication attempt.
      if (
        !(e instanceof Token2StatusError) ||
        this.challengeForm !== 'lc' ||
        (e.sw !== SW.wrongLength && e.sw !== SW.badData)
      )
        throw e;
      this.challengeForm = 'le';
      data = await this.command('challenge', buildGetChallenge(this.challengeForm), serial);
    }
    await this.command('authenticate', buildAuthenticate(parseChallengeOrFail(data)), serial);
  }

  async writeConfig(settings: Token2Settings, serial?: string): Promise<number> {
    // Rounded, not floored: the token starts counting from this second, so the error stays within ±0.5 s.
    const time = Math.round(this.now() / 1000);
    await this.command('writeConfig', buildWriteConfig({ ...settings, time }), serial);
    return time;
  }

  async writeSeed(seed: Uint8Array, serial?: string): Promise<void> {
    const apdu = buildWriteSeed(seed);
    try {
      await this.command('writeSeed', apdu, serial);
    } finally {
      apdu.fill(0);
    }
  }

  /** Writes config then seed; the seed write is what makes a restricted token usable again. */
  async flash(seed: Uint8Array, settings: Token2Settings, beforeWrite?: BeforeWrite): Promise<WriteOutcome> {
    return this.writeSequence('flash', seed, settings, beforeWrite);
  }

  /**
   * Sets the clock. On restricted-sync models the config write wipes the
   * seed, so the seed held in the store is written again (it must be given).
   */
  async syncClock(
    settings: Token2Settings | null,
    seed: Uint8Array | null,
    beforeWrite?: BeforeWrite,
  ): Promise<WriteOutcome> {
    return this.writeSequence('sync', seed, settings, beforeWrite);
  }

  private async writeSequence(
    operation: 'flash' | 'sync',
    givenSeed: Uint8Array | null,
    givenSettings: Token2Settings | null,
    beforeWrite?: BeforeWrite,
  ): Promise<WriteOutcome> {
    const start = this.sent;
    const info = await this.readInfo();
    const plan = (await beforeWrite?.(info)) ?? {};
    const seed = plan.seed ?? givenSeed;
    const settings = plan.settings ?? givenSettings;
    const needSeed = operation === 'flash' || info.wipesSeedOnConfig;
    if (needSeed && !seed) {
      throw new UsageError(
        `${info.product ?? info.model} ${info.serial} wipes its seed when its clock is set, so a sync must write the seed again, and none was given; nothing was written`,
        'seed-needed',
      );
    }
    if (!settings)
      throw new UsageError(
        `no algorithm, time step and display timeout to write to ${info.serial}; nothing was written`,
        'settings-needed',
      );
    let step: Token2Step = 'challenge';
    let configWritten = false;
    let seedWritten = false;
    try {
      await this.authenticate(info.serial);
      step = 'writeConfig';
      const timeWritten = await this.writeConfig(settings, info.serial);
      configWritten = true;
      if (needSeed) {
        step = 'challenge';
        await this.authenticate(info.serial);
        step = 'writeSeed';
        await this.writeSeed(seed!, info.serial);
        seedWritten = true;
      }
      step = 'verify';
      const after = await this.readInfo('verify');
      if (after.serial !== info.serial) {
        throw new DeviceError(
          `the read-back shows serial ${after.serial}, not ${info.serial}: another token is on the reader`,
          { code: 'token-swapped' },
        );
      }
      const expected = this.hostSeconds();
      if (Math.abs(after.deviceTime - expected) > 2) {
        throw new DeviceError(
          `the token's clock reads ${after.deviceTime}, expected ${expected} (±2 s) after the write`,
          { code: 'clock-check-failed' },
        );
      }
      return { info, timeWritten, offsetAfter: after.offset, commands: this.sent - start };
    } catch (e) {
      if (e instanceof AuthenticationFailedError && !configWritten) throw e;
      if (e instanceof TokensmithError)
        throw new Token2WriteError(operation, step, configWritten, seedWritten, info.wipesSeedOnConfig, info.serial, e);
      throw e;
    }
  }
}

function parseChallengeOrFail(data: Uint8Array): Uint8Array {
  try {
    return parseChallenge(data);
  } catch (e) {
    throw new DeviceError(`getting the challenge: ${(e as Error).message}`, { code: 'bad-answer' });
  }
}

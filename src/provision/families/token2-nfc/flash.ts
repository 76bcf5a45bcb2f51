/**
 * `device flash`: write a seed and settings to a Token2 NFC token, then
 * register it (kind programmable, state programmed, a flash batch, an audit
 * row) in one transaction once the token has confirmed. A failure leaves no
 * programmed token behind and says exactly what the token now holds.
 */
import { randomBytes } from 'node:crypto';
import { decodeBase32 } from '../../../core/codecs.js';
import { DataError, PolicyError, TokensmithError, UsageError } from '../../../core/errors.js';
import { nextState } from '../../../core/states.js';
import type { Repos, Store, TokenRecord } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import {
  AuthenticationFailedError,
  Token2Driver,
  Token2WriteError,
  type Token2DeviceInfo,
  type Token2Settings,
  type WriteOutcome,
} from '../../../../drivers/token2-nfc/driver.js';
import {
  DISPLAY_TIMEOUTS,
  MAX_SEED_BYTES,
  isToken2Model,
  type DisplayTimeoutSeconds,
  type Token2Model,
} from '../../../../drivers/token2-nfc/protocol.js';
import { assignWithin, checkReflash } from '../../assign.js';
import { batchOf, type TokenFlasher } from '../../flash-batch.js';
import { findResource } from '../../resources.js';
import { findUser } from '../../users.js';
import { viewToken, type TokenView } from '../../tokens.js';
import { refuseUserWithoutResource } from '../flash-options.js';

export const TOKEN2_MANUFACTURER = 'Token2';

export interface FlashInput {
  /** The seed to write; a fresh one from the CSPRNG when absent. */
  seed?: Uint8Array;
  algorithm: Token2Settings['algorithm'];
  period: Token2Settings['period'];
  displayTimeout: DisplayTimeoutSeconds;
  model?: Token2Model;
  resource?: string;
  user?: string;
  /** Overwrite a token the store already holds a seed for. */
  force?: boolean;
  /** Add to this open flash batch instead of making one. */
  batchId?: number;
}

export interface FlashHooks {
  now?: () => number;
  onStep?: (step: string) => void;
  /** Asked once the token is identified, before anything is written; false stops with nothing written. */
  confirm?: (info: Token2DeviceInfo, existing: TokenRecord | null) => Promise<boolean>;
}

export interface FlashResult {
  serial: string;
  model: string;
  product: string | null;
  algorithm: string;
  period: number;
  displayTimeout: number;
  batch: number;
  /** The token's clock minus the host's before and after, in seconds. */
  clockOffsetBefore: number;
  clockOffsetAfter: number;
  commands: number;
  reader: string;
  token: TokenView;
}

/** Raw CLI/web values -> a checked FlashInput (usage errors name the flag). */
export function parseFlashInput(raw: {
  seed?: string;
  algorithm?: string;
  period?: string | number;
  displayTimeout?: string | number;
  model?: string;
  resource?: string;
  user?: string;
  force?: boolean;
}): FlashInput {
  const algorithm = (raw.algorithm ?? 'sha1').toLowerCase().replace('-', '');
  if (algorithm !== 'sha1' && algorithm !== 'sha256')
    throw new UsageError(`--algorithm: Token2 tokens do sha1 or sha256, not '${raw.algorithm}'`, 'bad-algorithm');
  const period = Number(raw.period ?? 30);
  if (period !== 30 && period !== 60)
    throw new UsageError(`--period: Token2 tokens step 30 or 60 seconds, not '${raw.period}'`, 'bad-period');
  const displayTimeout = Number(raw.displayTimeout ?? 30);
  if (!(DISPLAY_TIMEOUTS as readonly number[]).includes(displayTimeout)) {
    throw new UsageError(
      `--display-timeout: use 15, 30, 60 or 120 seconds, not '${raw.displayTimeout}'`,
      'bad-display-timeout',
    );
  }
  if (raw.model !== undefined && !isToken2Model(raw.model)) {
    throw new UsageError(
      `--model: '${raw.model}' is not a Token2 NFC model; use token2-card, token2-fob or token2-fob-c302`,
      'bad-model',
    );
  }
  refuseUserWithoutResource(raw);
  let seed: Uint8Array | undefined;
  if (raw.seed !== undefined) {
    seed = decodeBase32(raw.seed, '--seed');
    if (seed.length > MAX_SEED_BYTES)
      throw new DataError(`--seed is ${seed.length} bytes; Token2 tokens take 1 to ${MAX_SEED_BYTES}`, {
        code: 'bad-seed-length',
      });
  }
  return {
    seed,
    algorithm,
    period,
    displayTimeout: displayTimeout as DisplayTimeoutSeconds,
    model: raw.model as Token2Model | undefined,
    resource: raw.resource,
    user: raw.user,
    force: raw.force,
  };
}

/** 20 bytes for SHA-1, 32 for SHA-256 (RFC 4226/6238 advice), from the system CSPRNG. */
export function freshSeed(algorithm: 'sha1' | 'sha256'): Uint8Array {
  return randomBytes(algorithm === 'sha1' ? 20 : 32);
}

async function preflight(tx: Repos, input: FlashInput): Promise<void> {
  if (!input.resource) return;
  const r = await findResource(tx, input.resource);
  if (!input.user) return;
  const u = await findUser(tx, input.user);
  if (!(await tx.users.isInResource(u.id, r.id))) {
    throw new PolicyError(
      `refused: user '${u.login}' is not a user of Resource '${r.name}'; add them first, nothing was written`,
      { code: 'user-not-in-resource' },
    );
  }
}

export async function flashToken(
  store: Store,
  transport: ApduTransport,
  input: FlashInput,
  hooks: FlashHooks = {},
): Promise<FlashResult> {
  await preflight(store, input);
  const seed = input.seed ? Uint8Array.from(input.seed) : freshSeed(input.algorithm);
  const settings: Token2Settings = {
    algorithm: input.algorithm,
    period: input.period,
    displayTimeout: input.displayTimeout,
  };
  const driver = new Token2Driver(transport, { now: hooks.now, model: input.model, onStep: hooks.onStep });
  // What the token and the store said before the write, for the failure record.
  const seen: { info: Token2DeviceInfo | null; existing: TokenRecord | null } = { info: null, existing: null };
  try {
    const out = await driver.flash(seed, settings, async (i) => {
      seen.info = i;
      seen.existing = await checkBeforeWrite(store, input, hooks, i);
    });
    const flashed = {
      out,
      seed,
      reader: transport.readerName,
      operator: store.operator,
      flashedAt: new Date(hooks.now?.() ?? Date.now()),
    };
    const token = await store.transaction((tx) => registerFlashedToken(tx, input, flashed));
    return {
      serial: token.serial,
      model: out.info.model,
      product: out.info.product,
      algorithm: input.algorithm,
      period: input.period,
      displayTimeout: input.displayTimeout,
      batch: token.batchId!,
      clockOffsetBefore: out.info.offset,
      clockOffsetAfter: out.offsetAfter,
      commands: out.commands,
      reader: transport.readerName,
      token: await viewToken(store, token),
    };
  } catch (e) {
    await recordFailure(store, transport, seen.info, seen.existing, input, e);
    throw e;
  } finally {
    seed.fill(0);
  }
}

/**
 * Runs once the token is identified, before anything is written: refuses to
 * replace a stored seed without --force, a state that cannot be flashed, an
 * assignment the rules forbid, or an operator's "no". Returns the store's record.
 */
async function checkBeforeWrite(
  store: Store,
  input: FlashInput,
  hooks: FlashHooks,
  i: Token2DeviceInfo,
): Promise<TokenRecord | null> {
  const existing = await store.tokens.findOne(TOKEN2_MANUFACTURER, i.serial);
  if (existing?.hasSeed && !input.force) {
    throw new PolicyError(
      `refused: token ${i.serial} is in the store with a seed (state ${existing.state}); flashing replaces that seed. Add --force to overwrite it; nothing was written`,
      {
        code: 'seed-present',
        where: i.serial,
      },
    );
  }
  await checkReflash(store, existing, input);
  if (hooks.confirm && !(await hooks.confirm(i, existing))) {
    throw new UsageError(`flash of ${i.serial} cancelled; nothing was written`, 'cancelled');
  }
  return existing;
}

/** A write the token confirmed, with where and by whom it was done. */
interface ConfirmedFlash {
  out: WriteOutcome;
  seed: Uint8Array;
  reader: string;
  operator: string;
  flashedAt: Date;
}

/** In one transaction once the token confirmed: the batch, the token row (new or updated), the audit row, the assignment. */
async function registerFlashedToken(tx: Repos, input: FlashInput, flashed: ConfirmedFlash): Promise<TokenRecord> {
  const { out, seed, reader, operator } = flashed;
  const batch = await batchOf(tx, input.batchId, { sourceName: reader, format: out.info.model, operator });
  const batchId = batch.id;
  const resourceId = input.resource ? (await findResource(tx, input.resource)).id : undefined;
  const prev = await tx.tokens.findOne(TOKEN2_MANUFACTURER, out.info.serial);
  const attributes = {
    ...(prev?.attributes ?? {}),
    displayTimeout: input.displayTimeout,
    flashedAt: flashed.flashedAt.toISOString(),
  };
  const fields = {
    model: out.info.product ?? out.info.model,
    kind: 'programmable' as const,
    type: 'totp' as const,
    algorithm: input.algorithm,
    digits: 6,
    period: input.period,
    counter: 0,
    driftSteps: 0,
    batchId,
    seed,
    attributes,
    failedAttempts: 0,
    locked: false,
    lastUsedStep: null,
  };
  let t: TokenRecord;
  if (prev) {
    const state = nextState(prev.state, 'flash');
    t = await tx.tokens.update(prev.id, { ...fields, state, ...(resourceId !== undefined ? { resourceId } : {}) });
  } else {
    const { failedAttempts: _f, locked: _l, lastUsedStep: _u, ...insert } = fields;
    t = await tx.tokens.insert({
      serial: out.info.serial,
      manufacturer: TOKEN2_MANUFACTURER,
      ...insert,
      state: nextState('in_stock', 'flash'),
      resourceId: resourceId ?? null,
    });
  }
  await tx.audit.append({
    action: 'token.flash',
    subject: `token:${t.serial}`,
    details: {
      model: out.info.model,
      product: out.info.product,
      reader,
      algorithm: input.algorithm,
      period: input.period,
      displayTimeout: input.displayTimeout,
      seedBytes: seed.length,
      clockOffsetBefore: out.info.offset,
      clockOffsetAfter: out.offsetAfter,
      batch: batchId,
      from: prev?.state ?? null,
      to: t.state,
      overwrote: Boolean(prev?.hasSeed),
    },
  });
  await batch.done('flashed');
  if (input.user)
    t = (
      await assignWithin(tx, {
        serial: t.serial,
        manufacturer: TOKEN2_MANUFACTURER,
        login: input.user,
        resource: input.resource!,
        via: 'flash',
      })
    ).token;
  return t;
}

/**
 * Writes what a failed flash did to the audit (and a batch with failed = 1).
 * A token the store knew as programmed whose seed the config write wiped goes
 * back to stock without its seed, so the store never claims a seed the token lost.
 */
async function recordFailure(
  store: Store,
  transport: ApduTransport,
  info: Token2DeviceInfo | null,
  existing: TokenRecord | null,
  input: FlashInput,
  e: unknown,
): Promise<void> {
  // Refusals (policy, usage, a state rule) stop before any write: nothing to record.
  if (!(e instanceof TokensmithError) || e.exitCode !== 3) return;
  const w = e instanceof Token2WriteError ? e : null;
  const err = e as TokensmithError;
  await store.transaction(async (tx) => {
    const at = { sourceName: transport.readerName, format: info?.model ?? null, operator: store.operator };
    const batch = await batchOf(tx, input.batchId, at);
    let erased = false;
    if (w?.configWritten && !w.seedWritten && w.wipesSeed && existing) {
      const cur = await tx.tokens.get(existing.id);
      if (cur && cur.hasSeed && cur.state === 'programmed') {
        await tx.tokens.update(cur.id, { state: nextState(cur.state, 'erase'), seed: null });
        erased = true;
      }
    }
    await tx.audit.append({
      action: 'token.flash-failed',
      subject: info ? `token:${info.serial}` : `reader:${transport.readerName}`,
      details: {
        model: info?.model ?? null,
        reader: transport.readerName,
        error: err.code ?? 'failure',
        step: w?.step ?? (e instanceof AuthenticationFailedError ? 'authenticate' : null),
        configWritten: w?.configWritten ?? false,
        seedWritten: w?.seedWritten ?? false,
        sw: (w?.reason as { sw?: number } | undefined)?.sw ?? (e as { sw?: number }).sw ?? null,
        storeTokenErased: erased,
        batch: batch.id,
      },
    });
    await batch.done('failed');
  });
}

/** Token2 NFC for the flash-batch service (and the station's single flash): each token its own fresh seed unless `input.seed`. */
export function token2Flasher(input: Omit<FlashInput, 'batchId'>, hooks: Pick<FlashHooks, 'now'> = {}): TokenFlasher {
  return {
    format: 'token2-nfc',
    flash: (store, transport, ctx) =>
      flashToken(
        store,
        transport,
        { ...input, user: ctx.user ?? input.user, batchId: ctx.batchId },
        {
          now: hooks.now,
          onStep: ctx.onStep,
          confirm: ctx.confirm
            ? (info) => ctx.confirm!(info.serial, `${info.product ?? info.model} ${info.serial}`)
            : undefined,
        },
      ),
  };
}

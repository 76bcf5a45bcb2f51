/**
 * The step after a flash with --entra-activate: the token just written is pushed to Entra, assigned to its
 * tokensmith user and activated with a code from its seed. A failure here never undoes the flash: the card
 * stays flashed and stored, recorded as "not in Entra" (or as far as it got) with the error, and a later
 * `tokensmith entra push` takes it from there.
 */
import { TokensmithError } from '../core/errors.js';
import { openGraph, type SessionOptions } from '../entra/session.js';
import { pushTokens } from '../entra/push.js';
import type { PushReport } from '../entra/report.js';
import type { EntraState } from '../store/entra-types.js';
import type { Store } from '../store/types.js';
import type { FlashedToken, TokenFlasher } from './flash-batch.js';

export interface FlashedEntraResult {
  /** Where the token stands in Entra after the step. */
  state: EntraState;
  /** What went wrong, when it did not end active (a refusal, Graph's code and message, a sign-in failure). */
  problem: string | null;
  report: PushReport | null;
}

export async function pushFlashedToken(
  store: Store,
  tokenId: number,
  opts: SessionOptions = {},
): Promise<FlashedEntraResult> {
  const token = await store.tokens.get(tokenId);
  if (!token) return { state: 'not-in-entra', problem: `no token ${tokenId}`, report: null };
  let report: PushReport | null = null;
  let problem: string | null = null;
  try {
    const graph = await openGraph(store, opts);
    report = await pushTokens(store, graph, {
      serials: [token.serial],
      assign: true,
      activate: true,
      sleep: opts.sleep,
    });
    const refused = report.refused.find((r) => r.serial === token.serial);
    const failed = report.failed.find((f) => f.serial === token.serial);
    problem = refused
      ? `refused: ${refused.reason}`
      : failed
        ? `${failed.step}: ${failed.code}: ${failed.message}`
        : null;
  } catch (err) {
    if (!(err instanceof TokensmithError)) throw err;
    problem = err.message;
  }
  const rec = await store.entra.device(tokenId);
  if (problem && !rec?.entraId)
    await store.entra.recordDevice({ tokenId, state: 'not-in-entra', entraId: null, error: problem.slice(0, 500) });
  const state = (await store.entra.device(tokenId))?.state ?? 'not-in-entra';
  // Asked to activate: a token left short of it without an error is a problem too (no user to activate it for).
  if (!problem && state !== 'activated')
    problem = `${state} in Entra, not activated: the token has no tokensmith user to assign it to (flash with --user)`;
  if (problem)
    await store.audit.append({
      action: 'entra.flash-push-failed',
      subject: `token:${token.serial}`,
      details: { state, problem },
    });
  return { state, problem, report };
}

/** The Entra step for the token a flash just registered under this serial (the newest with a seed). */
export async function pushFlashedSerial(
  store: Store,
  serial: string,
  opts: SessionOptions = {},
): Promise<FlashedEntraResult> {
  const tokens = (await store.tokens.findBySerial(serial)).filter((t) => t.hasSeed);
  const token = tokens.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
  if (!token) return { state: 'not-in-entra', problem: 'the flashed token is not in the store', report: null };
  return pushFlashedToken(store, token.id, opts);
}

/** A flasher whose every token goes on to Entra right after it is written (a batch's `--entra-activate`). */
export function entraActivating(flasher: TokenFlasher): TokenFlasher {
  return {
    format: flasher.format,
    async flash(store, transport, ctx): Promise<FlashedToken> {
      const r = await flasher.flash(store, transport, ctx);
      const { state, problem } = await pushFlashedSerial(store, r.serial);
      ctx.onStep?.(problem ? `Entra: not active (${state}): ${problem}` : `Entra: ${state}`);
      return { ...r, entra: { state, problem } } as FlashedToken;
    },
  };
}

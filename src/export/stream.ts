/**
 * The token stream every export writes from: the selection a page at a time,
 * each token joined with its user and Resource, tokens the format refuses
 * reported (never changed), and each opened seed wiped once written.
 */
import type { Store } from '../store/types.js';
import { iterateSelection, TokenContextLookup, type Selection } from './select.js';
import type { ExportToken, SkippedToken } from './types.js';

export interface StreamResult {
  exported: number;
  skipped: SkippedToken[];
}

/** No export format carries LinOTP's day password (its codes are MD5 over key and date, not OATH): such tokens are left out, said. */
export function refuseDayPassword(t: ExportToken): string | null {
  return t.token.type === 'dpw'
    ? 'a LinOTP day password (DPW): its codes are MD5 over the key and the date, which this format cannot describe (it would be read as an OATH token with wrong codes)'
    : null;
}

/** Streams the selection through `onToken`; tokens without a seed or refused by the writer are skipped. */
export async function eachToken(
  store: Store,
  sel: Selection,
  refuse: (t: ExportToken) => string | null,
  onToken: (t: ExportToken) => Promise<void>,
): Promise<StreamResult> {
  const lookup = new TokenContextLookup(store);
  const skipped: SkippedToken[] = [];
  let exported = 0;
  for await (const { token, seed, assignment } of iterateSelection(store, sel)) {
    if (!seed) {
      skipped.push({
        serial: token.serial,
        reason: 'no seed in the store (a blank programmable token: flash it first)',
      });
      continue;
    }
    try {
      const ctx = await lookup.of(token, assignment);
      const t: ExportToken = {
        token,
        seed,
        user: ctx.user?.login ?? null,
        userEmail: ctx.user?.email ?? null,
        resource: ctx.resource,
      };
      const reason = refuse(t);
      if (reason) {
        skipped.push({ serial: token.serial, reason });
        continue;
      }
      await onToken(t);
      exported++;
    } finally {
      seed.fill(0);
    }
  }
  return { exported, skipped };
}

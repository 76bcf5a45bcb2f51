/**
 * Where a keys batch's tokens come from (a family whose batch opens each token
 * its own way, `loop: 'keys'`): a key on USB HID is there or not, with no wait
 * of its own, so the next one is asked for again until it comes within the
 * wait; closing the source (the batch ended, or Ctrl-C) gives up at once.
 */
import { TokensmithError } from '../core/errors.js';
import type { ApduTransport } from '../transport/types.js';
import type { TokenSource } from './flash-batch.js';

export interface KeySourceOptions {
  /** How long to ask for the next key (--wait). */
  waitSeconds: number;
  /** Told once per key, when it is not there at the first asking. */
  onWaiting?: () => void;
  /** Between two askings; default 250 ms. */
  pollMs?: number;
  /** Runs when the source closes (what `open` holds open, a PC/SC context, is closed: its wait ends). */
  onClose?: () => Promise<void>;
}

const noToken = (e: unknown) => e instanceof TokensmithError && e.code === 'no-token';

/** A token source over `open`, asked again on 'no-token' until the wait is over or the source is closed. */
export function keySource(
  open: () => Promise<ApduTransport>,
  o: KeySourceOptions,
): TokenSource & { close(): Promise<void> } {
  let closed = false;
  let wake = () => {};
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, o.pollMs ?? 250);
      wake = () => (clearTimeout(timer), resolve());
    });
  return {
    async next() {
      const deadline = Date.now() + o.waitSeconds * 1000;
      for (let asked = 0; ; asked++) {
        try {
          return await open();
        } catch (e) {
          if (!noToken(e) || closed || Date.now() >= deadline) throw e;
        }
        if (asked === 0) o.onWaiting?.();
        await pause();
      }
    },
    async close() {
      closed = true;
      wake();
      await o.onClose?.();
    },
  };
}

/**
 * `device flash --entra-activate`: holds the flash's result back, pushes the flashed token to Entra
 * (src/provision/entra-flash.ts), and prints the result with an `entra` part. The flash itself is done and
 * stored whatever the Entra step does.
 */
import { ExitCode, TokensmithError } from '../../core/errors.js';
import type { Output } from '../context.js';
import type { Store } from '../../store/types.js';

export class EntraAfterFlash {
  private held: { value: unknown; text: string | (() => string) } | null = null;

  hold(value: unknown, text: string | (() => string)): void {
    this.held = { value, text };
  }

  /** Pushes the token of the held result and prints both. */
  async finish(store: Store, out: Output): Promise<void> {
    if (!this.held) return;
    const { value, text } = this.held;
    const { pushFlashedSerial } = await import('../../provision/entra-flash.js');
    const entra = await pushFlashedSerial(store, (value as { serial?: string }).serial ?? '');
    const line = entra.problem
      ? `Entra: not active (${entra.state}): ${entra.problem}; push it later with: tokensmith entra push --serials <file> --activate`
      : `Entra: ${entra.state}`;
    out.result({ ...(value as object), entra: { state: entra.state, problem: entra.problem } }, () =>
      [typeof text === 'function' ? text() : text, line].join('\n'),
    );
    if (entra.problem)
      throw new TokensmithError('the token is flashed and stored, but not active in Entra: see the result', {
        exitCode: ExitCode.data,
        code: 'entra-failed',
        resultPrinted: true,
      });
  }
}

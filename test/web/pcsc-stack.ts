/**
 * The card for the browser tests: `tokensmith simulate token2-card --vpcd`
 * on vpcd's first reader (the stack itself: test/helpers/pcsc.ts).
 */
import { startSimulator, type Simulator } from '../helpers/simulator.js';

export type { Simulator };

/** A simulated Token2 card on vpcd's first reader (see test/helpers/simulator.ts for why stop() waits). */
export function simulate(bin: string, env: NodeJS.ProcessEnv, stateFile: string, args: string[]): Promise<Simulator> {
  return startSimulator({ bin, env, model: 'token2-card', stateFile, args, upWithinMs: 15_000 });
}

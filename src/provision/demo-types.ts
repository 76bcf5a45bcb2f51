/** The shape of a `tokensmith demo` step (./demo.ts), shared with the family that gives the demo its flash step. */
import type { Store } from '../store/types.js';

export interface DemoContext {
  store: Store;
  /** The throw-away folder: database, key, sample files, exports. */
  dir: string;
  env: NodeJS.ProcessEnv;
  say(line: string): void;
  /** Facts steps hand to later steps (serials, file paths). */
  facts: Record<string, unknown>;
}

export interface DemoStep {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

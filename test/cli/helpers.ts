/** Spawns the built CLI with a clean environment; the spawning itself is test/helpers/cli.ts. */
import { cliEnv, runCli, type RunResult } from '../helpers/cli.js';

export { assertBuilt, BIN, BUILT_MAIN, cliEnv, ROOT, runCommand, type RunResult } from '../helpers/cli.js';

export function tokensmith(args: string[], extra: Record<string, string | undefined> = {}): Promise<RunResult> {
  return runCli(args, { env: cliEnv(extra) });
}

/** Runs fn over items with at most `limit` at once (CI has 2 cores). */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

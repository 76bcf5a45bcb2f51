/**
 * Start-up time: `node bin/tokensmith --version` against `node -e 0`, run
 * side by side (alternating, so both see the same machine load), median of
 * N runs each (default 15). The rule: tokensmith's start-up takes at most 3
 * times as long as bare Node, which holds only while heavy modules load lazily.
 *
 *   npm run build && npm run bench:startup [-- <runs>]
 *
 * Exits 1 when the ratio is above 3, so a script can act on it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.argv[2] ?? 15);
const LIMIT = 3;
// dist/bench/startup.js -> the package root
const BIN = fileURLToPath(new URL('../../bin/tokensmith', import.meta.url));

function timeRun(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().trim()}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

if (!Number.isInteger(RUNS) || RUNS < 1) {
  process.stderr.write(`bench:startup: runs must be a positive whole number, got '${process.argv[2]}'\n`);
  process.exit(2);
}

// One warm-up each, so the first run's disk cache misses do not count.
timeRun(['-e', '0']);
const version = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' }).stdout.trim();

const bare: number[] = [];
const cli: number[] = [];
for (let i = 0; i < RUNS; i++) {
  bare.push(timeRun(['-e', '0']));
  cli.push(timeRun([BIN, '--version']));
}

const mBare = median(bare);
const mCli = median(cli);
const ratio = mCli / mBare;
const ok = ratio <= LIMIT;
const fmt = (n: number) => n.toFixed(1).padStart(7);
process.stdout.write(
  [
    `start-up, median of ${RUNS} runs each (alternating), node ${process.version}:`,
    `  node -e 0                      ${fmt(mBare)} ms   (min ${bare.reduce((a, b) => Math.min(a, b)).toFixed(1)}, max ${bare.reduce((a, b) => Math.max(a, b)).toFixed(1)})`,
    `  node bin/tokensmith --version  ${fmt(mCli)} ms   (min ${cli.reduce((a, b) => Math.min(a, b)).toFixed(1)}, max ${cli.reduce((a, b) => Math.max(a, b)).toFixed(1)})  -> ${version}`,
    `  ratio ${ratio.toFixed(2)}x: ${ok ? `within ${LIMIT}x` : `OVER ${LIMIT}x: a heavy module is probably loaded at start-up (see test/cli/lazy-imports.test.ts)`}`,
    '',
  ].join('\n'),
);
process.exitCode = ok ? 0 : 1;

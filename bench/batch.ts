/**
 * `npm run bench` (second part): the host cost per token of `device flash
 * --batch 100` against in-memory simulators (driver + SQLite store + one
 * transaction and one audit row per token, all in one flash batch), and
 * whether it stays flat from the 1st token to the 100th. Also the Molto2:
 * 100 profiles of one Molto2v2 flashed one after another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Token2Simulator } from '../drivers/token2-nfc/simulator.js';
import { Molto2Simulator } from '../drivers/token2-molto2/simulator.js';
import { runFlashBatch } from '../src/provision/flash-batch.js';
import { token2Flasher } from '../src/provision/families/token2-nfc/flash.js';
import { flashProfile } from '../src/provision/families/token2-molto2/profiles.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { MemoryTransport } from '../src/transport/memory.js';

const N = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function report(title: string, perToken: number[]): { first: number; last: number; ratio: number } {
  const first = median(perToken.slice(0, 10));
  const mid = median(perToken.slice(45, 55));
  const last = median(perToken.slice(-10));
  const ratio = last / first;
  console.log(`${title}`);
  console.log(
    `  per token (median of 10): tokens 1-10 ${first.toFixed(2)} ms, 46-55 ${mid.toFixed(2)} ms, 91-100 ${last.toFixed(2)} ms; last/first ${ratio.toFixed(2)}  ${ratio < 1.5 ? 'flat' : 'NOT FLAT'}`,
  );
  console.log(`  whole run ${perToken.reduce((a, b) => a + b, 0).toFixed(0)} ms for ${perToken.length} tokens`);
  return { first, last, ratio };
}

async function token2Batch(dir: string): Promise<number[]> {
  const store = openSqliteStore({
    path: join(dir, 'batch.db'),
    env: { TOKENSMITH_MASTER_KEY: '11'.repeat(32) },
    operator: 'bench',
  });
  const sims = Array.from(
    { length: N },
    (_, i) => new Token2Simulator({ model: 'token2-card', serial: `86596229${String(i + 1).padStart(6, '0')}` }),
  );
  const times: number[] = [];
  let t = performance.now();
  await runFlashBatch(
    store,
    { next: async (i) => new MemoryTransport(sims[i]!) },
    token2Flasher({ algorithm: 'sha1', period: 30, displayTimeout: 30 }),
    {
      count: N,
      sourceName: 'bench',
      onEvent: (e) => {
        if (e.type !== 'token') return;
        if (e.entry.outcome !== 'flashed') throw new Error(e.entry.message);
        const now = performance.now();
        times.push(now - t);
        t = now;
      },
    },
  );
  return times;
}

async function molto2Profiles(dir: string): Promise<number[]> {
  const store = openSqliteStore({
    path: join(dir, 'molto2.db'),
    env: { TOKENSMITH_MASTER_KEY: '22'.repeat(32) },
    operator: 'bench',
  });
  const transport = new MemoryTransport(new Molto2Simulator({ serial: '2399999999' }));
  const times: number[] = [];
  for (let p = 0; p < N; p++) {
    const t = performance.now();
    await flashProfile(store, transport, {
      profile: p,
      settings: { algorithm: 'sha1', digits: 6, period: 30, displayTimeout: 30 },
    });
    times.push(performance.now() - t);
  }
  return times;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-batch-'));
  try {
    // A warm-up run so the JIT does not count against the first tokens.
    await token2Batch(mkdtempSync(join(dir, 'warm-')));
    const a = report(
      `device flash --batch ${N}: Token2 cards, in-memory simulators, SQLite file store`,
      await token2Batch(dir),
    );
    const b = report(`Molto2v2: ${N} profiles of one device flashed one after another`, await molto2Profiles(dir));
    if (a.ratio >= 1.5 || b.ratio >= 1.5) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

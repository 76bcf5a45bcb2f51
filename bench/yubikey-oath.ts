/**
 * `npm run bench` (YubiKey part): the host cost per credential of `device
 * flash --model yubikey-oath --batch 100` against in-memory OATH simulators
 * (driver: SELECT, LIST, PUT, LIST, CALCULATE; SQLite store: one transaction
 * and one audit row per credential, all in one flash batch), and whether it
 * stays flat from the 1st key to the 100th.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OathSimulator } from '../drivers/yubikey/oath-simulator.js';
import { oathBatchFlasher } from '../src/provision/families/yubikey/batch.js';
import { parseOathFlashInput } from '../src/provision/families/yubikey/oath.js';
import { runFlashBatch } from '../src/provision/flash-batch.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { MemoryTransport } from '../src/transport/memory.js';

const N = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-yubikey-'));
  const store = openSqliteStore({
    path: join(dir, 'yk.db'),
    env: { TOKENSMITH_MASTER_KEY: '22'.repeat(32) },
    operator: 'bench',
  });
  try {
    const sims = Array.from({ length: N }, (_, i) => new OathSimulator({ serial: String(17000000 + i) }));
    const times: number[] = [];
    let i = 0;
    let t = performance.now();
    const source = { next: async () => new MemoryTransport(sims[i++]!) };
    const r = await runFlashBatch(store, source, oathBatchFlasher(parseOathFlashInput({ issuer: 'Bench' })), {
      count: N,
      sourceName: 'bench',
      // Each key stays on its reader: the next comes at once.
      awaitRemoval: async () => {},
      onEvent: (e) => {
        if (e.type !== 'token') return;
        if (e.entry.outcome !== 'flashed') throw new Error(e.entry.message);
        const now = performance.now();
        times.push(now - t);
        t = now;
      },
    });
    const first = median(times.slice(0, 10));
    const last = median(times.slice(-10));
    const ratio = last / first;
    console.log(
      `YubiKey OATH: ${r.flashed.length} keys, one TOTP credential each, in-memory simulator + SQLite (batch ${r.batch})`,
    );
    console.log(
      `  per credential, keys 1-10:   ${times
        .slice(0, 10)
        .map((x) => x.toFixed(2))
        .join(' ')} ms`,
    );
    console.log(
      `  per credential, keys 91-100: ${times
        .slice(-10)
        .map((x) => x.toFixed(2))
        .join(' ')} ms`,
    );
    console.log(
      `  median ${first.toFixed(2)} ms -> ${last.toFixed(2)} ms; last/first ${ratio.toFixed(2)}  ${ratio < 1.5 ? 'flat' : 'NOT FLAT'}`,
    );
    console.log(`  whole run ${times.reduce((a, b) => a + b, 0).toFixed(0)} ms`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

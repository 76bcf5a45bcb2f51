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
import { flashOathBatch } from '../src/provision/families/yubikey/oath-batch.js';
import { parseOathFlashInput } from '../src/provision/families/yubikey/oath.js';
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
    const r = await flashOathBatch(store, N, parseOathFlashInput({ issuer: 'Bench' }), {
      next: async () => (i < N ? new MemoryTransport(sims[i++]!) : null),
      onKey: (_i, res) => {
        if (res instanceof Error) throw res;
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

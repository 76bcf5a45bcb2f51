/**
 * Export timing: N tokens (default 100,000) to password-encrypted PSKC,
 * against importing the same file back, with the peak heap during each. The
 * export must be the faster of the two and its memory flat (streamed output,
 * one PBKDF2 derivation): the run at N/10 tokens shows the heap it grows by.
 *
 *   npm run build && npm run bench:export [-- <tokens>]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportTokens } from '../src/export/service.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';

const N = Number(process.argv[2] ?? 100_000);
const env = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-export-'));

async function fill(store: Store, n: number): Promise<void> {
  const algs = ['sha1', 'sha256', 'sha512'] as const;
  const batch = 5000;
  for (let start = 0; start < n; start += batch) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(n, start + batch); i++) {
        const algorithm = algs[i % 3]!;
        await tx.tokens.insert({
          serial: `B${String(i).padStart(7, '0')}`,
          manufacturer: 'Bench',
          model: 'BENCH-1',
          kind: 'classic',
          type: i % 10 === 0 ? 'hotp' : 'totp',
          algorithm,
          digits: i % 2 ? 6 : 8,
          period: i % 4 ? 30 : 60,
          counter: i % 10 === 0 ? i : 0,
          state: 'in_stock',
          seed: randomBytes(algorithm === 'sha1' ? 20 : algorithm === 'sha256' ? 32 : 64),
        });
      }
    });
  }
}

/** Runs fn and reports its time and how far the heap rose above where it started. */
async function measure<T>(fn: () => Promise<T>): Promise<{ ms: number; heapRiseMb: number; value: T }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - t0, heapRiseMb: (peak - base) / 1e6, value };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { tokens: N };
  const password = 'bench export password';
  for (const n of [Math.max(1, Math.floor(N / 10)), N]) {
    const store = await openStore({ db: join(dir, `src-${n}.db`), env, operator: 'bench' });
    await fill(store, n);
    const out = join(dir, `export-${n}.xml`);
    const m = await measure(() => exportTokens(store, { format: 'pskc', output: out, password }));
    await store.close();
    console.log(
      `export ${n} tokens to encrypted PSKC: ${m.ms.toFixed(0)} ms (${((n / m.ms) * 1000).toFixed(0)} tokens/s), file ${(statSync(out).size / 1e6).toFixed(1)} MB, heap rose ${m.heapRiseMb.toFixed(1)} MB`,
    );
    results[`export${n}`] = { ms: Math.round(m.ms), heapRiseMb: Number(m.heapRiseMb.toFixed(1)) };
    if (n !== N) continue;

    // The importer is another module of the project; load it by name so this bench builds without it.
    const importModule = '../src/import/service.js';
    type Importer = {
      importSeedFile: (s: Store, o: { file: string; password?: string }) => Promise<{ imported: number }>;
    };
    let importer: Importer | null = null;
    try {
      importer = (await import(importModule)) as Importer;
    } catch {
      console.log('import service not available: no import timing to compare against');
    }
    if (importer) {
      const target = await openStore({ db: join(dir, 'import.db'), env, operator: 'bench' });
      const im = await measure(() => importer!.importSeedFile(target, { file: out, password }));
      await target.close();
      console.log(
        `import the same file: ${im.ms.toFixed(0)} ms (${im.value.imported} imported), heap rose ${im.heapRiseMb.toFixed(1)} MB`,
      );
      const faster = m.ms < im.ms;
      console.log(`export is ${faster ? 'faster' : 'SLOWER'} than import: ${(im.ms / m.ms).toFixed(2)}x`);
      results.import = { ms: Math.round(im.ms), heapRiseMb: Number(im.heapRiseMb.toFixed(1)) };
      results.exportFasterThanImport = faster;
      if (!faster) process.exitCode = 1;
    }
  }
  console.log(JSON.stringify(results));
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));

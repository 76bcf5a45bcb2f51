/**
 * `tokens list` memory: the built CLI lists a store of N tokens (default
 * 100,000) and one of N/10, as a table and with --json, on SQLite and (when
 * there is one) PostgreSQL, and reports each run's peak RSS. The listing is
 * streamed, so the peak must not grow with the store: the run fails (exit 1)
 * when N tokens peak more than 1.5 times as high as N/10 do.
 *
 *   npm run build && npm run bench:list [-- <tokens>]
 *
 * PostgreSQL is the server at TOKENSMITH_BENCH_PG_URL (a database is created
 * there and dropped), else a throw-away cluster started with the Debian binaries.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/index.js';
import type { NewToken } from '../src/store/types.js';
import { admin, cluster } from './pg-cluster.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'tokensmith');
const N = Number(process.argv[2] ?? 100_000);
const env = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
// Loaded into the CLI's process: prints its own peak RSS (KiB) on stderr as it exits.
const REPORT_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nmaxrss='+process.resourceUsage().maxRSS+'\\n'))`;

async function fill(db: string, n: number): Promise<void> {
  const store = await openStore({ db, env, operator: 'bench' });
  try {
    for (let start = 0; start < n; start += 5000) {
      const chunk: NewToken[] = [];
      for (let i = start; i < Math.min(n, start + 5000); i++)
        chunk.push({
          serial: `L${String(i).padStart(7, '0')}`,
          manufacturer: 'Bench',
          model: 'BENCH-1',
          kind: 'classic',
          type: 'totp',
          algorithm: 'sha1',
          digits: 6,
          period: 30,
          counter: 0,
          state: 'in_stock',
          seed: randomBytes(20),
        });
      await store.tokens.insertMany(chunk);
    }
  } finally {
    await store.close();
  }
}

/** Runs `tokens list` and returns its peak RSS in MB and how many bytes it printed (read and dropped here). */
function listPeak(db: string, json: boolean): Promise<{ mb: number; bytes: number }> {
  return new Promise((res, rej) => {
    const args = [`--import=${REPORT_RSS}`, bin, '--db', db, ...(json ? ['--json'] : []), 'tokens', 'list'];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (bytes += d.length));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => {
      const kib = /maxrss=(\d+)/.exec(stderr)?.[1];
      if (code !== 0 || !kib) rej(new Error(`tokens list on ${db} failed (exit ${code}): ${stderr.slice(0, 500)}`));
      else res({ mb: Number(kib) / 1024, bytes });
    });
  });
}

async function measureBackend(name: string, dbFor: (n: number) => Promise<string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const sizes = [Math.max(1, Math.floor(N / 10)), N];
  for (const n of sizes) {
    const db = await dbFor(n);
    await fill(db, n);
    for (const json of [false, true]) {
      const m = await listPeak(db, json);
      const label = `${name} ${json ? '--json' : 'table '} ${String(n).padStart(7)} tokens`;
      console.log(`${label}: peak RSS ${m.mb.toFixed(1)} MB, ${(m.bytes / 1e6).toFixed(1)} MB printed`);
      out[`${json ? 'json' : 'table'}${n}`] = Number(m.mb.toFixed(1));
    }
  }
  for (const kind of ['table', 'json']) {
    const ratio = out[`${kind}${N}`]! / out[`${kind}${sizes[0]}`]!;
    console.log(`${name} ${kind}: ${N} tokens peak at ${ratio.toFixed(2)}x the RSS of ${sizes[0]}`);
    if (ratio > 1.5) process.exitCode = 1;
  }
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tokensmith-bench-list-'));
  const results: Record<string, unknown> = { tokens: N };
  let local: { url: string; stop: () => void } | null = null;
  const made: string[] = [];
  let server: string | undefined;
  try {
    results.sqlite = await measureBackend('sqlite  ', async (n) => join(work, `list-${n}.db`));
    server = process.env.TOKENSMITH_BENCH_PG_URL ?? (local = await cluster())?.url;
    if (!server) {
      console.log('PostgreSQL: skipped (not installed; set TOKENSMITH_BENCH_PG_URL or apt-get install postgresql)');
    } else {
      results.postgres = await measureBackend('postgres', async () => {
        const name = `tokensmith_bench_${randomBytes(4).toString('hex')}`;
        await admin(server!, `CREATE DATABASE ${name}`);
        made.push(name);
        const u = new URL(server!);
        u.pathname = `/${name}`;
        return u.toString();
      });
    }
    console.log(JSON.stringify(results));
  } finally {
    for (const name of made) await admin(server!, `DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    local?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

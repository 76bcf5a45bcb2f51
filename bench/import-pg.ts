/**
 * `node dist/bench/import-pg.js`: import throughput on PostgreSQL next to
 * SQLite's. Writes one OATH CSV of N tokens (default 100,000), imports it
 * with the built CLI into a fresh SQLite file and into a fresh PostgreSQL
 * database, and prints tokens per second for each. PostgreSQL is the server
 * at TOKENSMITH_BENCH_PG_URL (a database is created there and dropped), else
 * a throw-away cluster on 127.0.0.1 started with the Debian binaries.
 *
 *   node dist/bench/import-pg.js [--tokens n]
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { admin, cluster } from './pg-cluster.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'tokensmith');
const arg = process.argv.indexOf('--tokens');
const N = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;

function importInto(db: string, file: string, key: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, '--db', db, '--json', 'import', file, '--format', 'oath-csv'], {
    env: { ...process.env, TOKENSMITH_MASTER_KEY: key, CI: '1' },
    encoding: 'utf8',
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`import into ${db} failed (exit ${r.status}): ${r.stderr}`);
  if ((JSON.parse(r.stdout) as { imported: number }).imported !== N)
    throw new Error(`import into ${db} did not import ${N} tokens`);
  return s;
}

const work = mkdtempSync(join(tmpdir(), 'tokensmith-bench-pg-'));
const key = randomBytes(32).toString('hex');
let local: { url: string; stop: () => void } | null = null;
try {
  const file = join(work, 'seeds.csv');
  const lines: string[] = [];
  for (let n = 0; n < N; n++) {
    const s = `BP${String(n).padStart(8, '0')}`;
    lines.push(`${s}, ${createHash('sha1').update(s).digest('hex')}, totp, 6, 30`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const sqliteS = importInto(join(work, 'bench.db'), file, key);
  console.log(
    `import ${N} tokens (OATH CSV) into SQLite:     ${sqliteS.toFixed(2)} s  ${Math.round(N / sqliteS)} tokens/s`,
  );
  const server = process.env.TOKENSMITH_BENCH_PG_URL ?? (local = await cluster())?.url;
  if (!server) {
    console.log('PostgreSQL: skipped (not installed; set TOKENSMITH_BENCH_PG_URL or apt-get install postgresql)');
  } else {
    const name = `tokensmith_bench_${randomBytes(4).toString('hex')}`;
    await admin(server, `CREATE DATABASE ${name}`);
    const u = new URL(server);
    u.pathname = `/${name}`;
    try {
      const pgS = importInto(u.toString(), file, key);
      console.log(
        `import ${N} tokens (OATH CSV) into PostgreSQL: ${pgS.toFixed(2)} s  ${Math.round(N / pgS)} tokens/s  (${(pgS / sqliteS).toFixed(2)}x SQLite's time)`,
      );
    } finally {
      await admin(server, `DROP DATABASE IF EXISTS ${name}`);
    }
  }
} finally {
  local?.stop();
  rmSync(work, { recursive: true, force: true });
}

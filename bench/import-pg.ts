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
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'tokensmith');
const arg = process.argv.indexOf('--tokens');
const N = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** A throw-away cluster, or null when PostgreSQL is not installed. */
async function cluster(): Promise<{ url: string; stop: () => void } | null> {
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
    : [];
  const bin = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(join(d, 'initdb')));
  if (!bin) return null;
  // A folder of its own: the work folder is private to this user (mkdtemp, 0700), and the server runs as postgres when we are root.
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-pg-cluster-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
  const run = (tool: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
      : execFileSync(join(bin, tool), args);
  run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    join(dir, 'data'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    '-l',
    join(dir, 'log'),
    '-w',
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(sql);
  await c.end();
}

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

/**
 * A throw-away PostgreSQL for tests: one cluster per vitest run, in a temp
 * folder on 127.0.0.1 and a free port, started with the Debian binaries (run as
 * the `postgres` OS user when we are root) by the first test file that asks, and
 * stopped by the run's global teardown (test/helpers/pg-global-setup.ts). Each
 * test file gets its own databases. TOKENSMITH_TEST_PG_URL points the tests at an
 * existing server instead. Outside CI, tests skip with `pgUnavailable()` as the
 * reason when neither is there; in CI they fail. The unit tier runs no PostgreSQL.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  /** A fresh, empty database on the server; its URL. */
  createDatabase(): Promise<string>;
  /** Stops the cluster (or drops the databases made on TOKENSMITH_TEST_PG_URL). */
  stop(): Promise<void>;
}

function findBinDir(): string | null {
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(dir);
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  }
  return candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) ?? null;
}

const UNIT_TIER = 'the unit tier (npm run test:unit) starts no PostgreSQL; npm test runs these';

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function pgUnavailable(): string | null {
  if (process.env.TOKENSMITH_TEST_TIER === 'unit') return UNIT_TIER;
  if (process.env.TOKENSMITH_TEST_PG_URL) return null;
  if (findBinDir()) return null;
  return 'PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin) and TOKENSMITH_TEST_PG_URL is not set: apt-get install postgresql';
}

/** Skip outside CI when PostgreSQL is missing; in CI a missing PostgreSQL is a failure, not a skip. */
export function skipPgReason(): string | null {
  const why = pgUnavailable();
  if (why && why !== UNIT_TIER && process.env.CI) throw new Error(`CI must run the PostgreSQL tests: ${why}`);
  return why;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function dbName(): string {
  return `tokensmith_t_${randomBytes(6).toString('hex')}`;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A database-per-call handle on a server we do not own: stop() drops what it made. */
function databasesOn(admin: string): TestPostgres {
  const made: string[] = [];
  return {
    async createDatabase() {
      const name = dbName();
      await adminQuery(admin, `CREATE DATABASE ${name}`);
      made.push(name);
      return withDatabase(admin, name);
    },
    async stop() {
      for (const name of made.splice(0))
        await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    },
  };
}

/** A started cluster: its admin URL and where it lives (enough for another process to stop it). */
export interface Cluster {
  admin: string;
  root: string;
  bin: string;
  asRoot: boolean;
}

function pgTool(c: Pick<Cluster, 'bin' | 'asRoot'>, tool: string, args: string[]): Buffer {
  return c.asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', join(c.bin, tool), ...args], { stdio: 'pipe' })
    : execFileSync(join(c.bin, tool), args, { stdio: 'pipe' });
}

/** Starts a cluster in a new temp folder (initdb + pg_ctl). */
export async function startCluster(): Promise<Cluster> {
  const bin = findBinDir();
  if (!bin) throw new Error(pgUnavailable()!);
  const root = mkdtempSync(join(tmpdir(), 'tokensmith-pg-'));
  const asRoot = userInfo().uid === 0;
  // The server refuses to run as root: hand the folder to the postgres user and run the tools as that user.
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(root, uid, gid);
  }
  const data = join(root, 'data');
  pgTool({ bin, asRoot }, 'initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const port = await freePort();
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`;
  try {
    pgTool({ bin, asRoot }, 'pg_ctl', [
      '-D',
      data,
      '-o',
      opts,
      '-l',
      join(root, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return { admin: `postgres://postgres@127.0.0.1:${port}/postgres`, root, bin, asRoot };
}

export function stopCluster(c: Cluster): void {
  try {
    pgTool(c, 'pg_ctl', ['-D', join(c.root, 'data'), '-m', 'immediate', '-w', 'stop']);
  } finally {
    rmSync(c.root, { recursive: true, force: true });
  }
}

/** The run's shared cluster folder (set by the global setup), or undefined outside a vitest run with it. */
function runDir(): string | undefined {
  return process.env.TOKENSMITH_TEST_PG_RUN || undefined;
}

async function underLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(dir, 'lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 1200) throw new Error('the shared PostgreSQL did not start within 120 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The admin URL of the run's cluster: the first caller starts it, the global teardown stops it. */
async function sharedCluster(dir: string): Promise<string> {
  const file = join(dir, 'cluster.json');
  return underLock(dir, async () => {
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as Cluster).admin;
    const cluster = await startCluster();
    writeFileSync(file, JSON.stringify(cluster));
    return cluster.admin;
  });
}

/** The global teardown's half: stops the run's cluster if a test file started one. */
export function stopSharedCluster(dir: string): void {
  const file = join(dir, 'cluster.json');
  if (existsSync(file)) stopCluster(JSON.parse(readFileSync(file, 'utf8')) as Cluster);
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.TOKENSMITH_TEST_PG_URL;
  if (external) return databasesOn(external);
  const dir = runDir();
  if (dir) return databasesOn(await sharedCluster(dir));
  // Outside a vitest run with the global setup: a cluster of its own, stopped with it.
  const cluster = await startCluster();
  const dbs = databasesOn(cluster.admin);
  return {
    createDatabase: () => dbs.createDatabase(),
    async stop() {
      stopCluster(cluster);
    },
  };
}

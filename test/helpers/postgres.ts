/**
 * A throw-away PostgreSQL for tests: a cluster in a temp folder on 127.0.0.1
 * and a free port, started with the Debian binaries (run as the `postgres` OS
 * user when we are root) and stopped afterwards. TOKENSMITH_TEST_PG_URL points
 * the tests at an existing server instead. Outside CI, tests skip with
 * `pgUnavailable()` as the reason when neither is there; in CI they fail.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function pgUnavailable(): string | null {
  if (process.env.TOKENSMITH_TEST_PG_URL) return null;
  if (findBinDir()) return null;
  return 'PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin) and TOKENSMITH_TEST_PG_URL is not set: apt-get install postgresql';
}

/** Skip outside CI when PostgreSQL is missing; in CI a missing PostgreSQL is a failure, not a skip. */
export function skipPgReason(): string | null {
  const why = pgUnavailable();
  if (why && process.env.CI) throw new Error(`CI must run the PostgreSQL tests: ${why}`);
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

export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.TOKENSMITH_TEST_PG_URL;
  if (external) {
    const made: string[] = [];
    return {
      async createDatabase() {
        const name = dbName();
        await adminQuery(external, `CREATE DATABASE ${name}`);
        made.push(name);
        return withDatabase(external, name);
      },
      async stop() {
        for (const name of made.splice(0))
          await adminQuery(external, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      },
    };
  }
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
  const run = (tool: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { stdio: 'pipe' })
      : execFileSync(join(bin, tool), args, { stdio: 'pipe' });
  const data = join(root, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  try {
    run('pg_ctl', ['-D', data, '-o', opts, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    async createDatabase() {
      const name = dbName();
      await adminQuery(admin, `CREATE DATABASE ${name}`);
      return withDatabase(admin, name);
    },
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

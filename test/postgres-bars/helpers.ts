/**
 * The earlier issues' acceptance bars, run against PostgreSQL: one throw-away
 * cluster per test file (test/helpers/postgres.ts), a fresh database per
 * store, and the built CLI (node bin/tokensmith) pointed at it through
 * TOKENSMITH_DB only (no --db), with the master key in TOKENSMITH_MASTER_KEY.
 * Outside CI a missing PostgreSQL skips; under CI it fails (skipPgReason).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { assertBuilt, BIN, inParallel, ROOT } from '../cli/helpers.js';
import { openStore } from '../../src/store/index.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A CLI call that runs this long hangs (they take about a second); under the 60 s test timeout, so the report gets out. */
const HANG_MS = Number(process.env.TOKENSMITH_TEST_HANG_MS) || 40_000;

/** Why this file skips (null: it runs). Throws under CI when PostgreSQL is missing. */
export const PG_SKIP = skipPgReason();

let server: TestPostgres | undefined;

/** Starts one cluster for the calling test file (in its beforeAll) and stops it after. */
export function usePostgres(): void {
  beforeAll(async () => {
    if (PG_SKIP) return;
    assertBuilt();
    server = await startTestPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    server = undefined;
  });
}

/** A store in a fresh PostgreSQL database, driven through the built CLI with TOKENSMITH_DB. */
export class PgCli {
  readonly dir = mkdtempSync(join(tmpdir(), 'tokensmith-pgbars-'));
  readonly masterKey = randomBytes(32).toString('hex');
  readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly db: string,
    extra: Record<string, string>,
  ) {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('TOKENSMITH_')) delete env[k];
    this.env = {
      ...env,
      TOKENSMITH_DB: db,
      TOKENSMITH_MASTER_KEY: this.masterKey,
      TOKENSMITH_OPERATOR: 'pg-bars',
      ...extra,
    };
  }

  static async create(extra: Record<string, string> = {}): Promise<PgCli> {
    if (!server) throw new Error('usePostgres() must run in the test file before PgCli.create()');
    const url = await server.createDatabase();
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`not a PostgreSQL URL: ${url}`);
    return new PgCli(url, extra);
  }

  /**
   * Runs the CLI. A call still running after HANG_MS is a hang, not a slow machine (these take about a
   * second): the child is asked for a Node diagnostic report (its JavaScript stack and open handles), the
   * server for what each connection waits on, and the call fails with both, so that a hang seen once in CI
   * can be read rather than guessed.
   */
  run(args: string[], input = '', extraEnv: Record<string, string> = {}): Promise<CliResult> {
    const report = join(this.dir, `report-${randomBytes(4).toString('hex')}.json`);
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--report-on-signal', '--report-signal=SIGUSR2', `--report-filename=${report}`, BIN, ...args],
        {
          cwd: ROOT,
          env: { ...this.env, ...extraEnv },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      let hung = false;
      const watchdog = setTimeout(() => {
        hung = true;
        void this.hangReport(child, report).then(
          (why) =>
            reject(
              new Error(
                `tokensmith ${args.join(' ')} did not finish within ${HANG_MS / 1000} s\nstdout so far: ${stdout}\nstderr so far: ${stderr}\n${why}`,
              ),
            ),
          reject,
        );
      }, HANG_MS);
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(watchdog);
        if (!hung) resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(input);
    });
  }

  private async hangReport(child: ChildProcess, reportFile: string): Promise<string> {
    const lines: string[] = [];
    child.kill('SIGUSR2');
    for (let i = 0; i < 20 && !existsSync(reportFile); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const r = JSON.parse(readFileSync(reportFile, 'utf8')) as {
        javascriptStack?: { stack?: string[] };
        libuv?: { type: string; is_active: boolean; remoteEndpoint?: unknown; localEndpoint?: unknown }[];
      };
      lines.push(`its JavaScript stack: ${(r.javascriptStack?.stack ?? []).join(' | ')}`);
      lines.push(
        `its active handles: ${JSON.stringify((r.libuv ?? []).filter((h) => h.is_active).map((h) => ({ type: h.type, local: h.localEndpoint, remote: h.remoteEndpoint })))}`,
      );
    } catch (e) {
      lines.push(`no diagnostic report: ${(e as Error).message}`);
    }
    child.kill('SIGKILL');
    try {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: this.db, connectionTimeoutMillis: 5000 });
      c.on('error', () => undefined);
      await c.connect();
      try {
        const rows = (
          await c.query(
            'SELECT pid, state, wait_event_type, wait_event, now() - xact_start AS in_tx, left(query, 120) AS query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          )
        ).rows;
        lines.push(`the server's sessions: ${JSON.stringify(rows)}`);
      } finally {
        await c.end();
      }
    } catch (e) {
      lines.push(`the server did not answer: ${(e as Error).message}`);
    }
    return lines.join('\n');
  }

  async json(args: string[], input = ''): Promise<any> {
    const r = await this.run(['--json', ...args], input);
    if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Serial -> token view with its secret (base32), for every token in the store. */
  async tokens(): Promise<Map<string, any>> {
    const list = (await this.json(['tokens', 'list'])) as { serial: string; manufacturer: string }[];
    const views = await inParallel(list, 3, (t) =>
      this.json([
        'tokens',
        'show',
        t.serial,
        '--show-secret',
        ...(t.manufacturer ? ['--manufacturer', t.manufacturer] : []),
      ]),
    );
    return new Map(list.map((t, i) => [t.serial, views[i]]));
  }

  /** Every token (serial/manufacturer/digits/counter/batch/state) and batch, read through the store API, as one string to compare. */
  async snapshot(): Promise<string> {
    const store = await openStore({ db: this.db, env: this.env });
    try {
      const tokens = (await store.tokens.list()).map(
        (t) => `${t.serial}/${t.manufacturer}/${t.digits}/${t.counter}/${t.batchId}/${t.state}`,
      );
      const batches = (await store.batches.list()).map((b) => `${b.id}/${b.status}/${b.imported}`);
      return JSON.stringify({ tokens, batches });
    } finally {
      await store.close();
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

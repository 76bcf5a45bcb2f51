/**
 * The earlier issues' acceptance bars, run against PostgreSQL: one throw-away
 * cluster per test file (test/helpers/postgres.ts), a fresh database per
 * store, and the built CLI (node bin/tokensmith) pointed at it through
 * TOKENSMITH_DB only (no --db), with the master key in TOKENSMITH_MASTER_KEY.
 * Outside CI a missing PostgreSQL skips; under CI it fails (skipPgReason).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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

  private constructor(readonly db: string, extra: Record<string, string>) {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('TOKENSMITH_')) delete env[k];
    this.env = { ...env, TOKENSMITH_DB: db, TOKENSMITH_MASTER_KEY: this.masterKey, TOKENSMITH_OPERATOR: 'pg-bars', ...extra };
  }

  static async create(extra: Record<string, string> = {}): Promise<PgCli> {
    if (!server) throw new Error('usePostgres() must run in the test file before PgCli.create()');
    const url = await server.createDatabase();
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`not a PostgreSQL URL: ${url}`);
    return new PgCli(url, extra);
  }

  run(args: string[], input = '', extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...this.env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  async json(args: string[], input = ''): Promise<any> {
    const r = await this.run(['--json', ...args], input);
    if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Serial -> token view with its secret (base32), for every token in the store. */
  async tokens(): Promise<Map<string, any>> {
    const list = (await this.json(['tokens', 'list'])) as { serial: string; manufacturer: string }[];
    const views = await inParallel(list, 3, (t) => this.json(['tokens', 'show', t.serial, '--show-secret', ...(t.manufacturer ? ['--manufacturer', t.manufacturer] : [])]));
    return new Map(list.map((t, i) => [t.serial, views[i]]));
  }

  /** Every token (serial/manufacturer/digits/counter/batch/state) and batch, read through the store API, as one string to compare. */
  async snapshot(): Promise<string> {
    const store = await openStore({ db: this.db, env: this.env });
    try {
      const tokens = (await store.tokens.list()).map((t) => `${t.serial}/${t.manufacturer}/${t.digits}/${t.counter}/${t.batchId}/${t.state}`);
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

/**
 * The portal under load: `tokensmith portal` runs as its own process on
 * loopback against a fresh SQLite database (or the PostgreSQL URL given), and
 * 50 concurrent clients first sign in by password (SIGNINS in all), then each
 * user claims a stock token with the code it shows (one enrollment per user).
 * The portal trusts 127.0.0.1 as its proxy and each client sends its own
 * X-Forwarded-For, as users behind nginx would: the default rate limits apply.
 * Each phase is bounded in count and in time (PHASE_LIMIT_MS: no request
 * starts after it) and stops by itself; it prints requests per second,
 * p50/p99 latency and every failure. Sign-in is bound by scrypt (ln=15, on
 * libuv's thread pool), so it shows what the machine's cores can hash.
 *
 *   npm run build && npm run bench:portal [-- <postgres://... database to fill>]
 *
 * Exits 1 when any request failed, so a script can act on it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBase32 } from '../src/core/codecs.js';
import { generateCode } from '../src/core/otp.js';
import { DEFAULT_SPEC } from '../src/core/spec.js';
import { createResource, findResource, setResourcePermissions } from '../src/provision/resources.js';
import { addToken } from '../src/provision/tokens.js';
import { addUser } from '../src/provision/users.js';
import { openStore } from '../src/store/index.js';

const CLIENTS = 50;
const USERS = 100;
const SIGNINS = 200;
const PHASE_LIMIT_MS = 60_000;
const BIN = fileURLToPath(new URL('../../bin/tokensmith', import.meta.url));
const PASSWORD = 'bench password 1';

interface Outcome {
  ms: number;
  status: number;
}

interface PhaseReport {
  name: string;
  total: number;
  done: number;
  failed: Map<string, number>;
  seconds: number;
  latencies: number[];
  stoppedByTime: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Each simulated client has an address of its own, told to the portal as its proxy would (X-Forwarded-For). */
const clientAddress = (i: number) => `198.51.100.${(i % CLIENTS) + 1}`;

async function post(
  url: string,
  body: unknown,
  client: number,
  cookie?: string,
  sessionTag?: string,
): Promise<{ outcome: Outcome; cookie?: string; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': clientAddress(client),
      ...(cookie ? { cookie } : {}),
      // An action carries the tag of the session its page was loaded with (docs/portal.md, "The API").
      ...(sessionTag ? { 'x-portal-session': sessionTag } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const set = res.headers.getSetCookie().find((c) => c.startsWith('tokensmith_portal='));
  return { outcome: { ms: performance.now() - t0, status: res.status }, cookie: set?.split(';')[0], text };
}

/** Runs `total` jobs on CLIENTS workers until done or PHASE_LIMIT_MS passed; a job returns its outcome and, on failure, why. */
async function phase(
  name: string,
  total: number,
  job: (i: number) => Promise<{ outcome: Outcome; why?: string }>,
): Promise<PhaseReport> {
  const report: PhaseReport = {
    name,
    total,
    done: 0,
    failed: new Map(),
    seconds: 0,
    latencies: [],
    stoppedByTime: false,
  };
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      if (performance.now() - t0 > PHASE_LIMIT_MS) {
        report.stoppedByTime = true;
        return;
      }
      const i = next++;
      try {
        const r = await job(i);
        report.latencies.push(r.outcome.ms);
        report.done++;
        if (r.why) report.failed.set(r.why, (report.failed.get(r.why) ?? 0) + 1);
      } catch (e) {
        report.done++;
        const why = `error: ${(e as Error).message}`;
        report.failed.set(why, (report.failed.get(why) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  report.seconds = (performance.now() - t0) / 1000;
  report.latencies.sort((a, b) => a - b);
  return report;
}

function describePhase(r: PhaseReport): string {
  const failed = [...r.failed.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `${r.name}: ${r.done} in ${r.seconds.toFixed(2)} s = ${(r.done / r.seconds).toFixed(1)}/s, p50 ${percentile(r.latencies, 50).toFixed(0)} ms, p99 ${percentile(r.latencies, 99).toFixed(0)} ms, failed ${failed}${r.stoppedByTime ? ` (the ${PHASE_LIMIT_MS / 1000} s limit stopped it before all ${r.total})` : ''}`,
  ];
  for (const [why, n] of r.failed) lines.push(`  ${n} x ${why}`);
  return lines.join('\n');
}

/** What failed, without the body's secrets: the status and the error code only. */
function whyFailed(status: number, text: string): string {
  let code = '';
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
  } catch {
    code = 'not JSON';
  }
  return `HTTP ${status} ${code}`;
}

async function fill(db: string, env: NodeJS.ProcessEnv): Promise<Buffer[]> {
  const store = await openStore({ db, env, operator: 'bench' });
  try {
    await createResource(store, { name: 'bench', lockAfter: 100 });
    await setResourcePermissions(store, 'bench', { allow: true, actions: 'enroll', tokenTypes: 'programmable' });
    const seeds: Buffer[] = [];
    // One scrypt hash for all: hashing is what sign-in measures, not what filling should take.
    const first = await addUser(store, { login: 'user0', password: PASSWORD, resources: ['bench'] });
    const resource = await findResource(store, 'bench');
    for (let i = 0; i < USERS; i++) {
      if (i > 0) {
        await store.transaction(async (tx) => {
          const u = await tx.users.create({ login: `user${i}`, passwordHash: first.passwordHash });
          await tx.users.addToResource(u.id, resource.id);
        });
      }
      const seed = randomBytes(20);
      seeds.push(seed);
      await addToken(store, {
        serial: `BENCH${String(i).padStart(5, '0')}`,
        secret: encodeBase32(seed),
        kind: 'programmable',
        resource: 'bench',
      });
    }
    return seeds;
  } finally {
    await store.close();
  }
}

async function startPortal(db: string, env: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(
    process.execPath,
    [BIN, 'portal', '--port', '0', '--json', '--trust-proxy', '127.0.0.1', '--db', db],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      try {
        resolve((JSON.parse(out) as { url: string }).url);
      } catch {
        // not all of it yet
      }
    });
    proc.once('exit', (c) => reject(new Error(`tokensmith portal exited ${c} before it printed its address`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) =>
        proc.exitCode !== null ? resolve() : (proc.once('exit', () => resolve()), proc.kill('SIGTERM')),
      ),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-portal-'));
  const db = process.argv[2] ?? join(dir, 'portal.db');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
    TOKENSMITH_OUTBOX: join(dir, 'outbox'),
  };
  let portal: { url: string; stop(): Promise<void> } | undefined;
  try {
    const t0 = performance.now();
    const seeds = await fill(db, env);
    process.stdout.write(
      `portal bench: ${USERS} users and tokens in ${db.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'} (filled in ${((performance.now() - t0) / 1000).toFixed(1)} s), ${CLIENTS} concurrent clients, node ${process.version}\n`,
    );
    portal = await startPortal(db, env);
    const api = `${portal.url}/api/r/bench`;
    const cookies: (string | undefined)[] = new Array(USERS);
    const tags: (string | undefined)[] = new Array(USERS);
    const signins = await phase('sign-ins (password)', SIGNINS, async (i) => {
      const user = i % USERS;
      const r = await post(`${api}/signin`, { login: `user${user}`, password: PASSWORD }, i);
      if (r.outcome.status === 200) {
        cookies[user] = r.cookie;
        tags[user] = (JSON.parse(r.text) as { sessionTag?: string }).sessionTag;
      }
      return { outcome: r.outcome, why: r.outcome.status === 200 ? undefined : whyFailed(r.outcome.status, r.text) };
    });
    process.stdout.write(`${describePhase(signins)}\n`);
    const enrollments = await phase('enrollments (claim a token with its code)', USERS, async (user) => {
      if (!cookies[user]) return { outcome: { ms: 0, status: 0 }, why: 'no session from the sign-in phase' };
      const code = generateCode(seeds[user]!, DEFAULT_SPEC);
      const r = await post(
        `${api}/actions/enroll`,
        { serial: `BENCH${String(user).padStart(5, '0')}`, code },
        user,
        cookies[user],
        tags[user],
      );
      return { outcome: r.outcome, why: r.outcome.status === 200 ? undefined : whyFailed(r.outcome.status, r.text) };
    });
    process.stdout.write(`${describePhase(enrollments)}\n`);
    // Running out of time is a figure, not a failure: each request that ran is counted.
    const failed = [signins, enrollments].some((r) => r.failed.size > 0);
    process.stdout.write(failed ? 'result: SOME REQUESTS FAILED (see above)\n' : 'result: every request succeeded\n');
    process.exitCode = failed ? 1 : 0;
  } finally {
    await portal?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

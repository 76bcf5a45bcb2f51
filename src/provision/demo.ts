/**
 * `tokensmith demo`: the main job end to end, in a throw-away database with
 * a throw-away master key and no hardware, saying what happens at each step.
 * Each capability adds its step here, so the demo always shows the whole
 * path as far as it is built.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { encodeBase32 } from '../core/codecs.js';
import { findCode } from '../core/otp.js';
import { addToken, findToken, tokenCode, viewToken } from './tokens.js';

export interface DemoContext {
  store: Store;
  /** The throw-away folder: database, key, sample files, exports. */
  dir: string;
  env: NodeJS.ProcessEnv;
  say(line: string): void;
  /** Facts steps hand to later steps (serials, file paths). */
  facts: Record<string, unknown>;
}

export interface DemoStep {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

/** RFC 6238's SHA-1 test seed: a labelled test value, never a real token's. */
export const DEMO_TEST_SEED = Buffer.from('12345678901234567890', 'ascii');

export const DEMO_STEPS: DemoStep[] = [
  {
    title: 'Register a classic token typed from its seed sheet',
    async run(ctx) {
      const t = await addToken(ctx.store, {
        serial: 'DEMO-0001',
        secret: encodeBase32(DEMO_TEST_SEED),
        kind: 'classic',
        manufacturer: 'Demo',
        model: 'OTP c200 (demo)',
      });
      ctx.facts.classicSerial = t.serial;
      ctx.say(`token ${t.serial} registered: ${t.kind}, ${t.type} ${t.algorithm}, ${t.digits} digits, ${t.period} s, state ${t.state}`);
      ctx.say('its seed is sealed with AES-256-GCM under the master key; the database never holds it in the clear');
    },
  },
  {
    title: 'Show the token as the helpdesk sees it, and the code it displays now',
    async run(ctx) {
      const serial = ctx.facts.classicSerial as string;
      const v = await viewToken(ctx.store, await findToken(ctx.store, serial));
      ctx.say(`tokens show ${serial}: model ${v.model}, state ${v.state}, drift ${v.driftSteps} steps (no secret without --show-secret)`);
      const { code, validFor } = await tokenCode(ctx.store, serial);
      ctx.say(`tokens code ${serial}: ${code} (valid for ${validFor} more seconds)`);
      const seed = await ctx.store.tokens.openSeed(await findToken(ctx.store, serial));
      const match = findCode(seed, { type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: 0 }, code, { window: 0 });
      if (!match) throw new Error('the demo code does not verify against its own seed');
      ctx.say('the code verifies against the sealed seed');
    },
  },
  // Later steps, in this order, as each capability lands: import a sample seed file (import),
  // flash a simulated card (drivers/token2-nfc), create a Resource and assign both tokens
  // (provision/assign), enroll one with a valid code (provision/selfservice), export the
  // enrollment package (export). The audit check stays last.
  {
    title: 'Check the audit log',
    async run(ctx) {
      const rows = await ctx.store.audit.list();
      for (const r of rows) ctx.say(`#${r.seq} ${r.action} ${r.subject}`);
      const v = await ctx.store.audit.verify();
      if (!v.ok) throw new Error(`audit chain broken: ${v.firstBad?.problem}`);
      ctx.say(`audit verify: the hash chain of ${v.rows} rows is intact`);
    },
  },
];

export interface DemoResult {
  steps: { title: string; ok: boolean; lines: string[] }[];
  dir: string;
  kept: boolean;
}

export async function runDemo(opts: { say: (line: string) => void; keep?: boolean; steps?: DemoStep[] }): Promise<DemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-demo-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
  const store = await openStore({ db: join(dir, 'demo.db'), env, operator: 'demo' });
  const result: DemoResult = { steps: [], dir, kept: Boolean(opts.keep) };
  const steps = opts.steps ?? DEMO_STEPS;
  const facts: Record<string, unknown> = {};
  try {
    for (const [i, step] of steps.entries()) {
      const lines: string[] = [];
      opts.say(`\n[${i + 1}/${steps.length}] ${step.title}`);
      const ctx: DemoContext = {
        store,
        dir,
        env,
        facts,
        say: (line) => {
          lines.push(line);
          opts.say(`    ${line}`);
        },
      };
      try {
        await step.run(ctx);
        result.steps.push({ title: step.title, ok: true, lines });
      } catch (err) {
        result.steps.push({ title: step.title, ok: false, lines: [...lines, (err as Error).message] });
        throw err;
      }
    }
  } finally {
    await store.close();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/**
 * `tokensmith demo`: the main job end to end, in a throw-away database with
 * a throw-away master key and no hardware, saying what happens at each step.
 * Each capability adds its step here, so the demo always shows the whole
 * path as far as it is built.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/index.js';
import { encodeBase32 } from '../core/codecs.js';
import { addToken, findToken, tokenCode, viewToken } from './tokens.js';
import { findCode } from '../core/otp.js';
import { inspectEnrollmentFile } from '../export/inspect.js';
import { exportTokens } from '../export/service.js';
import { SAMPLE_TOKENS, writeSamplePskc } from '../import/sample.js';
import { importSeedFile } from '../import/service.js';
import { assignToken } from './assign.js';
import { claimToken } from './enroll.js';
import { createResource, setResourcePermissions } from './resources.js';
import type { DemoContext, DemoStep } from './demo-types.js';
import { provisionFamilies } from './families/index.js';
import { addUser } from './users.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export type { DemoContext, DemoStep } from './demo-types.js';

/** RFC 6238's SHA-1 test seed: a labelled test value, never a real token's. */
export const DEMO_TEST_SEED = Buffer.from('12345678901234567890', 'ascii');

/** The step the demo family's flash step follows. */
const IMPORT_TITLE = 'Import a sample seed file (encrypted PSKC, as a vendor ships it)';

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
      ctx.say(
        `token ${t.serial} registered: ${t.kind}, ${t.type} ${t.algorithm}, ${t.digits} digits, ${t.period} s, state ${t.state}`,
      );
      ctx.say('its seed is sealed with AES-256-GCM under the master key; the database never holds it in the clear');
    },
  },
  {
    title: 'Show the token as the helpdesk sees it, and the code it displays now',
    async run(ctx) {
      const serial = ctx.facts.classicSerial as string;
      const v = await viewToken(ctx.store, await findToken(ctx.store, serial));
      ctx.say(
        `tokens show ${serial}: model ${v.model}, state ${v.state}, drift ${v.driftSteps} steps (no secret without --show-secret)`,
      );
      const { code, validFor } = await tokenCode(ctx.store, serial);
      ctx.say(`tokens code ${serial}: ${code} (valid for ${validFor} more seconds)`);
      const seed = await ctx.store.tokens.openSeed(await findToken(ctx.store, serial));
      const match = findCode(seed, { type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: 0 }, code, {
        window: 0,
      });
      if (!match) throw new Error('the demo code does not verify against its own seed');
      ctx.say('the code verifies against the sealed seed');
    },
  },
  // Later steps, in this order, as each capability lands: import a sample seed file (import),
  // flash a simulated token (the demo family's step), create a Resource and assign both tokens
  // (provision/assign), enroll one with a valid code (provision/selfservice), export the
  // enrollment package (export). The audit check stays last.
  {
    title: IMPORT_TITLE,
    async run(ctx) {
      const file = join(ctx.dir, 'vendor-seeds.pskc.xml');
      const password = 'demo-seed-file-password';
      writeSamplePskc(file, password);
      ctx.say(
        `a vendor's seed file with ${SAMPLE_TOKENS.length} labelled test tokens: ${file} (aes128-cbc, HMAC-SHA1 MACs, key from a password by PBKDF2)`,
      );
      const dry = await importSeedFile(ctx.store, { file, password, dryRun: true });
      ctx.say(`import --dry-run: ${dry.imported} tokens would be imported, ${dry.failed} bad; nothing written`);
      const r = await importSeedFile(ctx.store, { file, password });
      ctx.say(
        `import: batch ${r.batch}, ${r.imported} tokens in stock (each seed decrypted, its MAC checked, then sealed under the master key)`,
      );
      try {
        await importSeedFile(ctx.store, { file, password });
        throw new Error('the same file imported twice');
      } catch (err) {
        if (!/already imported/.test((err as Error).message)) throw err;
        ctx.say('the same file again: refused, it was already imported (same SHA-256)');
      }
      ctx.facts.seedFile = file;
    },
  },
  // The flash step (a simulated token, in memory) is the demo family's: see demoSteps.
  {
    title: 'Create a Resource and assign both tokens',
    async run(ctx) {
      const r = await createResource(ctx.store, { name: 'demo-vpn', url: 'https://sso.example.com/demo-vpn' });
      await setResourcePermissions(ctx.store, r.name, {
        allow: true,
        actions: ['enroll'],
        tokenTypes: ['programmable', 'classic'],
      });
      ctx.say(
        `Resource ${r.name}: portal actions allowed: enroll; token types: programmable, classic; a code must fall within ±${r.window} steps`,
      );
      // Whatever tokens the earlier steps registered: every fact (a string) that is the serial of one token in the store.
      const serials: string[] = [];
      for (const value of Object.values(ctx.facts)) {
        if (typeof value !== 'string' || serials.includes(value)) continue;
        if ((await ctx.store.tokens.findBySerial(value)).length === 1) serials.push(value);
      }
      const logins = ['alice', 'bob', 'carol', 'dave', 'erin'];
      const assigned: { serial: string; login: string }[] = [];
      for (const serial of serials.slice(0, logins.length)) {
        const login = logins[assigned.length]!;
        await addUser(ctx.store, { login, email: `${login}@example.com`, resources: [r.name] });
        const a = await assignToken(ctx.store, { serial, login, resource: r.name });
        assigned.push({ serial, login });
        ctx.say(
          `user ${login} added; token ${serial} assigned to ${login}: state ${a.state} until ${login} proves possession with a code`,
        );
      }
      if (assigned.length === 0) throw new Error('no token from the earlier steps to assign');
      ctx.facts.resourceName = r.name;
      ctx.facts.assignedTokens = assigned;
    },
  },
  {
    title: 'Enroll one with a valid code',
    async run(ctx) {
      const [first] = ctx.facts.assignedTokens as { serial: string; login: string }[];
      const resource = ctx.facts.resourceName as string;
      const { code } = await tokenCode(ctx.store, first!.serial);
      ctx.say(`${first!.login} reads ${code} from token ${first!.serial} and types it into the ${resource} portal`);
      const r = await claimToken(ctx.store, {
        resource,
        login: first!.login,
        serial: first!.serial,
        code,
        via: 'admin',
      });
      ctx.say(`token ${r.serial} is ${r.state} to ${r.user}, measured drift ${r.driftSteps} steps`);
      try {
        await claimToken(ctx.store, { resource, login: first!.login, serial: first!.serial, code, via: 'admin' });
        throw new Error('the same code was accepted twice');
      } catch (err) {
        if ((err as { code?: string }).code !== 'code-already-used') throw err;
        ctx.say(`the same code again: ${(err as Error).message}`);
      }
      ctx.facts.enrolledSerial = r.serial;
    },
  },
  {
    title: 'Export the enrollment package',
    async run(ctx) {
      let resource = ctx.facts.resourceName as string | undefined;
      if (!resource) {
        // Without the Resource step, put the registered token into a Resource of its own.
        const r =
          (await ctx.store.resources.findByName('demo-vpn')) ??
          (await ctx.store.resources.create({ name: 'demo-vpn', url: 'https://sso.example.com/demo-vpn' }));
        const t = await findToken(ctx.store, ctx.facts.classicSerial as string);
        await ctx.store.tokens.update(t.id, { resourceId: r.id });
        resource = r.name;
      }
      const file = join(ctx.dir, `${resource}.enroll`);
      const password = 'demo export password';
      const r = await exportTokens(ctx.store, { format: 'enrollment', resource, output: file, password });
      ctx.say(
        `export --format enrollment --resource ${resource}: ${r.exported} token(s) to ${file}, seeds in a PSKC encrypted under a key derived from the password (PBKDF2, AES-128-CBC, HMAC-SHA1)`,
      );
      const s = await inspectEnrollmentFile(file);
      ctx.say(
        `enrollment inspect: format version ${s.version}, SHA-256 ${s.digest.slice(0, 16)}... OK; ${s.users.length} user(s), ${s.tokens.length} token(s), ${s.assignments.length} assignment(s), no secrets shown`,
      );
      const bad = Buffer.from(readFileSync(file));
      bad[Math.floor(bad.length * 0.75)]! ^= 0x01;
      writeFileSync(`${file}.tampered`, bad);
      try {
        await inspectEnrollmentFile(`${file}.tampered`);
        throw new Error('a changed package passed the digest check');
      } catch (err) {
        if ((err as { code?: string }).code !== 'digest-mismatch') throw err;
        ctx.say('one byte flipped: inspect refuses the copy (SHA-256 digest mismatch)');
      }
      ctx.facts.enrollmentPackage = file;
    },
  },
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

/** The flash step of the first family that gives one (`demo` in its folder); none when no family does. */
async function familyDemoSteps(): Promise<DemoStep[]> {
  const family = (await provisionFamilies()).find((f) => f.demo);
  return family?.demo ? [await family.demo()] : [];
}

/** DEMO_STEPS with the demo family's flash step after the import step. */
export async function demoSteps(): Promise<DemoStep[]> {
  const at = DEMO_STEPS.findIndex((s) => s.title === IMPORT_TITLE) + 1;
  return [...DEMO_STEPS.slice(0, at), ...(await familyDemoSteps()), ...DEMO_STEPS.slice(at)];
}

export interface DemoResult {
  steps: { title: string; ok: boolean; lines: string[] }[];
  dir: string;
  kept: boolean;
}

export async function runDemo(opts: {
  say: (line: string) => void;
  keep?: boolean;
  steps?: DemoStep[];
}): Promise<DemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-demo-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
  const store = await openStore({ db: join(dir, 'demo.db'), env, operator: 'demo' });
  const result: DemoResult = { steps: [], dir, kept: Boolean(opts.keep) };
  const steps = opts.steps ?? (await demoSteps());
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

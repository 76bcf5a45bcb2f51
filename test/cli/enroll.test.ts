// @module-tag subprocess
/** The self-service rules end to end through the built CLI (node bin/tokensmith), with codes computed in the test. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32, TEST_SEEDS, totp } from '../provision/helpers-ss.js';
import { runCli } from '../helpers/cli.js';

const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const AT = new Date('2026-03-01T12:00:10Z');
const AT_ARG = AT.toISOString();

let dir: string;
let env: NodeJS.ProcessEnv;

function run(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['--db', join(dir, 't.db'), ...args], { env, input });
}

async function ok(args: string[], input?: string): Promise<any> {
  const r = await run(['--json', ...args], input);
  if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function refused(args: string[], exit: number, rule: RegExp, code?: string) {
  const r = await run(['--json', ...args]);
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stderr).toMatch(rule);
  const e = JSON.parse(r.stdout).error;
  if (code) expect(e.code).toBe(code);
  return e;
}

const enroll = (user: string, serial: string, code: string) => [
  'enroll',
  '--resource',
  'vpn',
  '--user',
  user,
  '--serial',
  serial,
  '--code',
  code,
  '--at',
  AT_ARG,
];

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-cli-enroll-'));
  env = {
    ...process.env,
    NO_COLOR: '1',
    TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
    TOKENSMITH_OPERATOR: 'cli-test',
  };
  delete env.TOKENSMITH_DB;
  await ok(['resource', 'create', 'vpn', '--url', 'https://sso.example.com/vpn']);
  await ok(['resource', 'create', 'wiki']);
  for (const u of ['alice', 'carol']) await ok(['user', 'add', u, '--email', `${u}@example.com`, '--resource', 'vpn']);
  await ok(['user', 'add', 'dave', '--email', 'dave@example.com', '--resource', 'wiki']);
  for (const [serial, seed] of [
    ['P1', TEST_SEEDS.p1],
    ['P2', TEST_SEEDS.p2],
    ['P3', TEST_SEEDS.p3],
  ] as const) {
    await ok(['tokens', 'add', serial, '--secret', base32(seed), '--kind', 'programmable', '--resource', 'vpn']);
  }
  await ok(['tokens', 'add', 'C1', '--secret', base32(TEST_SEEDS.c1), '--kind', 'classic', '--resource', 'vpn']);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tokensmith resource / user / enroll', () => {
  it('user add --password-stdin reads one line and never prints it', async () => {
    const r = await run(
      ['--json', 'user', 'add', 'bob', '--password-stdin', '--resource', 'vpn'],
      'hunter2-secret\nsecond line\n',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
    expect(JSON.parse(r.stdout)).toMatchObject({
      login: 'bob',
      hasPassword: true,
      canSignIn: true,
      resources: ['vpn'],
    });
  });

  it('resource allow/show: only enroll and programmable', async () => {
    const v = await ok(['resource', 'allow', 'vpn', '--actions', 'enroll', '--token-types', 'programmable']);
    expect(v).toMatchObject({
      name: 'vpn',
      url: 'https://sso.example.com/vpn',
      lockAfter: 5,
      window: 2,
      syncWindow: 1000,
      actions: ['enroll'],
      tokenTypes: ['programmable'],
    });
    await refused(['resource', 'allow', 'vpn', '--actions', 'fly'], 2, /unknown action 'fly'/);
  });

  it('runs the acceptance: drift 0, replay refused, +2 accepted with drift 2, 5 steps away refused', async () => {
    expect(await ok(enroll('alice', 'P1', totp(TEST_SEEDS.p1, AT)))).toMatchObject({
      serial: 'P1',
      user: 'alice',
      resource: 'vpn',
      state: 'enrolled',
      driftSteps: 0,
    });
    expect(await ok(['tokens', 'show', 'P1'])).toMatchObject({ state: 'enrolled', user: 'alice', driftSteps: 0 });
    await refused(
      enroll('alice', 'P1', totp(TEST_SEEDS.p1, AT)),
      5,
      /rule: a code that was used once is never accepted again/,
      'code-already-used',
    );
    expect(await ok(enroll('bob', 'P2', totp(TEST_SEEDS.p2, AT, 2)))).toMatchObject({ driftSteps: 2 });
    expect((await ok(['tokens', 'show', 'P2'])).driftSteps).toBe(2);
    await refused(enroll('carol', 'P3', totp(TEST_SEEDS.p3, AT, 5)), 5, /within ±2 steps/, 'code-rejected');
  });

  it('refuses with the rule and exit 5: outsider, classic, second token, someone else’s; the admin resync is not bound by the Allowed Actions', async () => {
    await refused(
      enroll('dave', 'P3', totp(TEST_SEEDS.p3, AT)),
      5,
      /rule: only users of a Resource/,
      'user-not-in-resource',
    );
    await refused(
      enroll('carol', 'C1', totp(TEST_SEEDS.c1, AT)),
      5,
      /rule: only the token types the Resource allows/,
      'token-type-not-allowed',
    );
    await refused(
      enroll('alice', 'P3', totp(TEST_SEEDS.p3, AT)),
      5,
      /rule: one user has at most one token per Resource/,
      'one-token-per-resource',
    );
    await refused(
      enroll('carol', 'P1', totp(TEST_SEEDS.p1, AT, 1)),
      5,
      /rule: a token belongs to at most one user/,
      'token-has-other-user',
    );
    // The Allowed Actions are what users may do in a portal: the admin's resync works although vpn does not allow synchronize.
    const codes = `${totp(TEST_SEEDS.p2, AT, 20)},${totp(TEST_SEEDS.p2, AT, 21)}`;
    expect(await ok(['tokens', 'resync', 'P2', '--codes', codes, '--at', AT_ARG])).toEqual({
      serial: 'P2',
      driftSteps: 21,
      previousDriftSteps: 2,
    });
    await ok(['resource', 'allow', 'vpn', '--actions', 'synchronize']);
  });

  it('locks after too many failed codes until tokens unlock', async () => {
    // carol already has one failed code on P3 (5 steps away).
    for (let i = 0; i < 4; i++) await refused(enroll('carol', 'P3', '000000'), 5, /code 000000 is not a code/);
    expect((await ok(['tokens', 'show', 'P3'])).locked).toBe(true);
    await refused(
      enroll('carol', 'P3', totp(TEST_SEEDS.p3, AT)),
      5,
      /locked after 5 failed codes.*tokens unlock P3/,
      'token-locked',
    );
    expect(await ok(['tokens', 'unlock', 'P3'])).toEqual({ serial: 'P3', wasLocked: true, failedAttempts: 5 });
    expect(await ok(enroll('carol', 'P3', totp(TEST_SEEDS.p3, AT)))).toMatchObject({ state: 'enrolled' });
  });

  it('assign, unassign and the life-cycle subcommands', async () => {
    expect(await ok(['unassign', 'P3'])).toEqual({ serial: 'P3', state: 'programmed', user: 'carol', resource: 'vpn' });
    expect(await ok(['assign', 'C1', 'carol', '--resource', 'vpn'])).toMatchObject({
      serial: 'C1',
      user: 'carol',
      state: 'assigned',
    });
    await refused(['assign', 'P3', 'carol', '--resource', 'vpn'], 5, /one token per Resource/);
    expect(await ok(['tokens', 'disable', 'C1'])).toMatchObject({ from: 'assigned', to: 'disabled' });
    expect(await ok(['tokens', 'enable', 'C1'])).toMatchObject({ to: 'assigned' });
    expect(await ok(['tokens', 'lost', 'C1'])).toMatchObject({ to: 'lost' });
    expect(await ok(['tokens', 'revoke', 'C1'])).toMatchObject({ to: 'revoked' });
    expect(await ok(['tokens', 'retire', 'C1'])).toMatchObject({ to: 'retired' });
    await refused(['tokens', 'enable', 'C1'], 4, /retired token is final/);
  });

  it('user import with one bad line imports nothing and names the line', async () => {
    const csv = join(dir, 'users.csv');
    writeFileSync(
      csv,
      'login,email,phone,password,resources,token\nerin,erin@example.com,,pw-erin-1,vpn,\nfrank,frank-at-example,,,vpn,\ngina,,,,vpn,\n',
    );
    const e = await refused(
      ['user', 'import', csv],
      4,
      /users\.csv:3: 'frank-at-example' is not an email address/,
      'import-rejected',
    );
    expect(e.where).toBe('users.csv:3');
    expect((await ok(['user', 'list'])).map((u: { login: string }) => u.login)).not.toContain('erin');
    writeFileSync(
      csv,
      'login,email,phone,password,resources,token\nerin,erin@example.com,,pw-erin-1,vpn,\ngina,,,,vpn,\n',
    );
    const r = await run(['--json', 'user', 'import', csv]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ imported: 2, failed: 0, cannotSignIn: ['gina'] });
    expect(r.stderr).toMatch(/'gina' has neither a password nor an email/);
    expect(r.stdout + r.stderr).not.toContain('pw-erin-1');
  });

  it('audit rows for every change, and audit verify passes', async () => {
    const rows: { action: string }[] = await ok(['audit', 'list']);
    const actions = new Set(rows.map((r) => r.action));
    for (const a of [
      'resource.create',
      'resource.allow',
      'user.add',
      'token.assign',
      'token.enroll',
      'token.enroll-failed',
      'token.resync',
      'token.unlock',
      'token.unassign',
      'token.disable',
      'token.enable',
      'token.lost',
      'token.revoke',
      'token.retire',
    ]) {
      expect(actions, a).toContain(a);
    }
    expect(await ok(['audit', 'verify'])).toMatchObject({ ok: true });
  });
});

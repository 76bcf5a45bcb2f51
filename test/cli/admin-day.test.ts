// @module-tag subprocess
/**
 * Issue 26 items 5, 6, 7, 10, 11 and issue 21 item 19 through the built CLI:
 * the streamed `tokens list` and `audit list` print what a pretty-printed
 * array would; the new user commands, `assign --replace`, `--assigned-before`
 * and the admin's resync without the synchronize action.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCommand, cliEnv, BIN } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-admin-day-'));
const db = join(dir, 'day.db');
const env = cliEnv({ TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_OPERATOR: 'admin1' });
const ts = (args: string[], input?: string) => runCommand(process.execPath, [BIN, '--db', db, ...args], { env, input });
async function ok(args: string[], input?: string) {
  const r = await ts(['--json', ...args], input);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  assertBuilt();
  await ok(['resource', 'create', 'vpn']);
  for (const login of ['alice', 'bob'])
    await ok(['user', 'add', login, '--email', `${login}@example.com`, '--resource', 'vpn']);
  for (const serial of ['T1', 'T2', 'T3'])
    await ok(['tokens', 'add', serial, '--secret', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', '--resource', 'vpn']);
  await ok(['assign', 'T1', 'alice', '--resource', 'vpn']);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("an admin's day through the CLI", () => {
  it('tokens list --json streams the same text as a pretty-printed array, with the times', async () => {
    const r = await ts(['--json', 'tokens', 'list']);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(r.stdout).toBe(JSON.stringify(rows, null, 2) + '\n');
    expect(rows.map((t) => t.serial)).toEqual(['T1', 'T2', 'T3']);
    expect(rows[0]).toMatchObject({ user: 'alice', enrolledAt: null });
    expect(typeof rows[0]!.assignedAt).toBe('string');
    expect(typeof rows[1]!.lastStateChangeAt).toBe('string');
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await ok(['tokens', 'list', '--state', 'assigned', '--assigned-before', later])).length).toBe(1);
    expect(await ok(['tokens', 'list', '--assigned-before', '2000-01-01'])).toEqual([]);
    const text = await ts(['tokens', 'list', '--resource', 'vpn']);
    expect(text.stdout.split('\n')[0]).toMatch(/^SERIAL\s+MANUFACTURER\s+MODEL/);
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(4);
    expect((await ts(['tokens', 'list', '--assigned-before', 'soon'])).code).toBe(2);
  });

  it('tokens resync works without synchronize allowed; lost then assign names revoke; --replace does it', async () => {
    const r = await ts(['tokens', 'resync', 'T1', '--codes', '000000,000001']);
    // Not refused by the Resource's rules: the codes are simply not the token's.
    expect(r.stderr).not.toMatch(/does not allow/);
    expect(r.stderr).toMatch(/not consecutive codes of token T1/);
    await ok(['tokens', 'lost', 'T1']);
    const refused = await ts(['assign', 'T2', 'alice', '--resource', 'vpn']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/tokensmith tokens revoke T1.*--replace/);
    expect(await ok(['assign', 'T2', 'alice', '--resource', 'vpn', '--replace'])).toMatchObject({
      serial: 'T2',
      user: 'alice',
      replaced: 'T1',
    });
    expect((await ok(['tokens', 'show', 'T1'])).state).toBe('revoked');
  });

  it('user edit, reset-password, remove; audit list by actor, time and user', async () => {
    expect(await ok(['user', 'edit', 'bob', '--phone', '+41 79 111 11 11', '--name', 'Bob'])).toMatchObject({
      phone: '+41 79 111 11 11',
      name: 'Bob',
    });
    expect(await ok(['user', 'reset-password', 'bob', '--password-stdin'], 'a-new-password\n')).toMatchObject({
      hasPassword: true,
      sessionsEnded: 0,
    });
    expect((await ts(['user', 'reset-password', 'bob'])).code).toBe(2);
    await ok(['assign', 'T3', 'bob', '--resource', 'vpn']);
    expect(await ok(['user', 'remove', 'bob'])).toEqual({
      login: 'bob',
      resources: ['vpn'],
      revoked: [{ serial: 'T3', resource: 'vpn', from: 'assigned' }],
    });
    expect((await ts(['user', 'show', 'bob'])).code).toBe(4);
    const alice = await ts(['--json', 'audit', 'list', '--subject', 'user:alice']);
    const rows = JSON.parse(alice.stdout) as { action: string; subject: string }[];
    expect(alice.stdout).toBe(JSON.stringify(rows, null, 2) + '\n');
    expect(rows.map((x) => `${x.action} ${x.subject}`)).toEqual([
      'user.add user:alice',
      'token.assign token:T1',
      'token.resync-failed token:T1',
      'token.lost token:T1',
      'token.revoke token:T1',
      'token.assign token:T2',
    ]);
    const since = await ok([
      'audit',
      'list',
      '--since',
      new Date(Date.now() - 3_600_000).toISOString(),
      '--actor',
      'admin1',
    ]);
    expect(since.length).toBeGreaterThan(10);
    expect(await ok(['audit', 'list', '--actor', 'nobody'])).toEqual([]);
    expect((await ts(['audit', 'list', '--actor', 'nobody'])).stdout).toBe('no audit rows\n');
  });
});

/**
 * An admin's day (issue 26), through the built CLI and `tokensmith portal`:
 * a vendor OATH CSV that names no device is imported with --manufacturer and
 * --model, users are added and tokens assigned, one user enrolls through the
 * portal, the users file goes to pam_oath; a drifted token is resynchronised
 * and the re-export names it with the pam_oath window it needs (pamtester
 * refuses it at window=2 and takes it at that window); a lost token's line
 * disappears on a cron-style re-export (no terminal, no --force); the Entra
 * CSV holds only uploadable rows. Codes come from oathtool, never from
 * tokensmith. pam_oath looks logins up in the system's user database, so the
 * users are named after accounts every Debian has.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { assertBuilt, cliEnv, runCli, runCommand, BIN } from '../helpers/cli.js';
import { pamLogin, pamMissing, writePamService } from '../helpers/pam.js';
import { which } from '../helpers/pcsc.js';
import { call, sessionCookie, startPortal, type PortalProcess } from '../web/portal.js';

const missing = pamMissing("the admin's day end-to-end test");
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-admin-day-'));
const env = cliEnv({ TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') });
const usersFile = join(dir, 'users.oath');
const entraFile = join(dir, 'entra.csv');
const SYS_PASSWORD = 'correct horse 1';

/** Labelled test seeds, one per token of the vendor file (20 bytes each). */
const SEEDS: Record<string, Buffer> = Object.fromEntries(
  ['A-1', 'A-2', 'A-3', 'A-4', 'A-5', 'A-6'].map((s) => [s, Buffer.from(`admin-day-seed-${s}-xx`.slice(0, 20))]),
);
/** Who holds which token by the end of the morning. */
const HOLDERS = { daemon: 'A-1', bin: 'A-2', games: 'A-3', sys: 'A-4' } as const;

let portal: PortalProcess | null = null;
const services: { remove: () => void }[] = [];

async function cli(args: string[]) {
  const r = await runCli(args, { env, timeoutMs: 60_000 });
  return r;
}

async function ok(args: string[]) {
  const r = await cli(args);
  expect(r.code, `tokensmith ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

const stepNow = () => Math.floor(Date.now() / 30_000);

/** The token's code at a time step, from oathtool. */
function codeAt(serial: string, step: number): string {
  const r = spawnSync(which('oathtool')!, ['--totp', '-b', `--now=@${step * 30}`, encodeBase32(SEEDS[serial]!)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`oathtool failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The users file's token line for a login, split into fields (undefined when there is none). */
function lineOf(login: string): string[] | undefined {
  return readFileSync(usersFile, 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .find((f) => f[1] === login && f[0]!.startsWith('HOTP'));
}

/** The cron job: the documented recipe as written, without a terminal and without --force. */
async function cronExport() {
  const r = await cli([
    'export',
    '--format',
    'usersfile',
    '--plaintext',
    '--resource',
    'ssh',
    '-o',
    usersFile,
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return { ...JSON.parse(r.stdout), stderr: r.stderr } as {
    exported: number;
    skipped: { serial: string; reason: string }[];
    drifted: { serial: string; driftSteps: number; advice: string }[];
    stderr: string;
  };
}

describe.skipIf(missing !== null)(`an admin's day${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(() => assertBuilt());
  afterAll(async () => {
    await portal?.stop();
    for (const s of services) s.remove();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('imports a vendor OATH CSV that names no device, with --manufacturer and --model', async () => {
    await ok(['resource', 'create', 'ssh']);
    await ok(['resource', 'allow', 'ssh', '--actions', 'enroll,synchronize', '--token-types', 'classic']);
    const csv = join(dir, 'vendor.csv');
    writeFileSync(
      csv,
      Object.entries(SEEDS)
        .map(([s, seed]) => `${s}, ${seed.toString('hex')}, totp, 6, 30\n`)
        .join(''),
    );
    await ok([
      'import',
      csv,
      '--format',
      'oath-csv',
      '--manufacturer',
      'Token2',
      '--model',
      'C202',
      '--resource',
      'ssh',
    ]);
    const tokens = JSON.parse((await ok(['--json', 'tokens', 'list', '--resource', 'ssh'])).stdout) as {
      manufacturer: string;
      model: string;
    }[];
    expect(tokens).toHaveLength(6);
    for (const t of tokens) expect([t.manufacturer, t.model]).toEqual(['Token2', 'C202']);
  });

  it('adds the users and assigns three tokens; one user enrolls the fourth through the portal', async () => {
    for (const u of ['daemon', 'bin', 'games'])
      await ok(['user', 'add', u, '--resource', 'ssh', '--email', `${u}@contoso.example`]);
    const sys = await runCommand(
      process.execPath,
      [BIN, 'user', 'add', 'sys', '--resource', 'ssh', '--email', 'sys@contoso.example', '--password-stdin'],
      { env, input: `${SYS_PASSWORD}\n` },
    );
    expect(sys.code, sys.stderr).toBe(0);
    for (const login of ['daemon', 'bin', 'games'] as const)
      await ok(['assign', HOLDERS[login], login, '--resource', 'ssh']);

    portal = await startPortal(env);
    const signin = await call(`${portal.origin}/api/r/ssh/signin`, { body: { login: 'sys', password: SYS_PASSWORD } });
    expect(signin.status, signin.body).toBe(200);
    const cookie = sessionCookie(signin)!;
    const enroll = await call(`${portal.origin}/api/r/ssh/actions/enroll`, {
      headers: { cookie },
      body: { serial: HOLDERS.sys, code: codeAt(HOLDERS.sys, stepNow()) },
    });
    expect(enroll.status, enroll.body).toBe(200);
    expect(JSON.parse((await ok(['--json', 'tokens', 'show', HOLDERS.sys])).stdout)).toMatchObject({
      state: 'enrolled',
      user: 'sys',
    });
  });

  it("exports the users file; pam_oath takes each holder's code; the stock tokens are one counted line, not one each", async () => {
    const r = await cronExport();
    expect(r.exported).toBe(4);
    expect(r.stderr).toMatch(/left out 2 tokens: state in_stock.*\(--verbose lists them\)/);
    expect(r.stderr).not.toMatch(/left out A-5/);
    const pam = writePamService(usersFile, { window: 2 });
    services.push(pam);
    for (const login of ['daemon', 'sys'] as const)
      expect(pamLogin(pam.name, login, codeAt(HOLDERS[login], stepNow())), login).toBe('accept');
  });

  it("a resync's drift: the re-export names the token with the pam_oath window it needs, and pam_oath takes its code at that window", async () => {
    // bin's token runs 14 steps (7 minutes) ahead: its two consecutive codes from then.
    const s = stepNow();
    const resync = await ok([
      '--json',
      'tokens',
      'resync',
      HOLDERS.bin,
      '--codes',
      `${codeAt(HOLDERS.bin, s + 13)},${codeAt(HOLDERS.bin, s + 14)}`,
    ]);
    expect(JSON.parse(resync.stdout).driftSteps).toBe(14);
    const r = await cronExport();
    expect(r.drifted.map((d) => d.serial)).toEqual([HOLDERS.bin]);
    expect(r.stderr).toMatch(new RegExp(`warning: ${HOLDERS.bin} was written without its clock drift \\(14 steps\\)`));
    const window = Number(/window=(\d+)/.exec(r.drifted[0]!.advice)?.[1]);
    expect(window).toBe(14);
    const narrow = writePamService(usersFile, { window: 2 });
    services.push(narrow);
    expect(pamLogin(narrow.name, 'bin', codeAt(HOLDERS.bin, stepNow() + 14))).toBe('reject');
    const wide = writePamService(usersFile, { window });
    services.push(wide);
    expect(pamLogin(wide.name, 'bin', codeAt(HOLDERS.bin, stepNow() + 14))).toBe('accept');
  });

  it('a lost token: the cron-style re-export (no terminal, no --force) removes its line, and pam_oath no longer takes it', async () => {
    expect(lineOf('games')).toBeDefined();
    await ok(['tokens', 'lost', HOLDERS.games]);
    const r = await cronExport();
    expect(r.skipped).toContainEqual({ serial: HOLDERS.games, reason: expect.stringMatching(/state lost/) });
    expect(lineOf('games')).toBeUndefined();
    expect(readFileSync(usersFile, 'utf8')).not.toContain(HOLDERS.games);
    const pam = writePamService(usersFile, { window: 2 });
    services.push(pam);
    expect(pamLogin(pam.name, 'games', codeAt(HOLDERS.games, stepNow()))).not.toBe('accept');
    // The others' lines stay, with what pam_oath recorded.
    expect(lineOf('daemon')?.length).toBe(7);
  });

  it('the Entra CSV holds only uploadable rows: a UPN, the serial, the secret, the step, a manufacturer and a model on each', async () => {
    const all = await cli(['--json', 'export', '--format', 'entra-csv', '--plaintext', '-o', entraFile]);
    expect(all.code, all.stderr).toBe(0);
    const j = JSON.parse(all.stdout) as {
      skipped: { serial: string; reason: string }[];
      drifted: { serial: string }[];
    };
    expect(j.skipped.map((s) => s.serial).sort()).toEqual(['A-3', 'A-5', 'A-6']);
    expect(j.drifted.map((d) => d.serial)).toEqual([HOLDERS.bin]);
    const again = await cli([
      '--json',
      'export',
      '--format',
      'entra-csv',
      '--plaintext',
      '--state',
      'assigned,enrolled',
      '-o',
      entraFile,
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).skipped).toEqual([]);
    const [header, ...rows] = readFileSync(entraFile, 'utf8').split('\r\n').filter(Boolean);
    expect(header).toBe('upn,serial number,secret key,time interval,manufacturer,model');
    expect(rows.map((r) => r.split(',')).sort((a, b) => a[1]!.localeCompare(b[1]!))).toEqual(
      (['daemon', 'bin', 'sys'] as const).map((login) => [
        `${login}@contoso.example`,
        HOLDERS[login],
        encodeBase32(SEEDS[HOLDERS[login]]!),
        '30',
        'Token2',
        'C202',
      ]),
    );
  });
});

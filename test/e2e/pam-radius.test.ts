/**
 * A flashed token lets a person in: a Token2 card flashed through the real
 * PC/SC stack (pcscd + vpcd + `tokensmith simulate`), assigned and enrolled,
 * exported as the OATH Toolkit users file; then Debian's pam_oath (asked with
 * pamtester) and a FreeRADIUS of the test's own on loopback (asked with
 * radtest, its pam module behind the same PAM service) take the card's codes,
 * refuse wrong and replayed ones, and keep refusing a replay after tokensmith
 * writes the file again. Codes come from oathtool, never from tokensmith.
 * pam_oath looks the login up in the system's user database, so the store's
 * users are named after accounts every Debian has (daemon, bin, sys, games).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { ensurePcscd, lockVpcd, pcscMissing, which } from '../helpers/pcsc.js';
import { pamLogin, pamMissing, radtest, startRadius, writePamService, type Radius } from '../helpers/pam.js';
import { startSimulator } from '../helpers/simulator.js';
import { runCliSync } from '../helpers/cli.js';
import { toolsMissing } from '../helpers/tools.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/tokensmith');
const missing =
  pcscMissing('the pam_oath / FreeRADIUS end-to-end test') ??
  pamMissing('the pam_oath / FreeRADIUS end-to-end test') ??
  toolsMissing('the pam_oath / FreeRADIUS end-to-end test', 'oathtool');
const READER = 'Virtual PCD 00 00';
const CARD = '86596220000317';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-pam-'));
const usersFile = join(dir, 'users.oath');
const env = {
  ...process.env,
  TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
  TOKENSMITH_DB: join(dir, 't.db'),
};
let stopPcscd: () => Promise<void> = async () => {};
let unlock: (() => void) | null = null;
let pam: { name: string; remove: () => void } | null = null;
let radius: Radius | null = null;
let cardSeed = '';
/** The TOTP step of the last code pam_oath accepted from the card. */
let lastStep = 0;

function cli(args: string[], e: NodeJS.ProcessEnv = env) {
  return runCliSync(args, { env: e, timeoutMs: 60_000 });
}

function oathtool(args: string[]): string {
  const r = spawnSync(which('oathtool')!, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`oathtool failed: ${r.stderr}`);
  return r.stdout.trim();
}

const totp = (seedB32: string, step: number) => oathtool(['--totp', '-b', `--now=@${step * 30}`, seedB32]);
const hotp = (seedB32: string, counter: number) => oathtool(['-b', '-c', String(counter), seedB32]);

/** A 6-digit code that is none of the card's codes from `step - 4` to `step + 4`. */
function wrongCode(step: number): string {
  const near = new Set(Array.from({ length: 9 }, (_, i) => totp(cardSeed, step - 4 + i)));
  for (let n = 0; ; n++) {
    const c = String((123456 + n * 111111) % 1_000_000).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

/** The users file's line for `login`, split into its fields (undefined when there is none). */
function lineOf(login: string): string[] | undefined {
  return readFileSync(usersFile, 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .find((f) => f[1] === login && f[0]!.startsWith('HOTP'));
}

function exportUsersFile() {
  const r = cli([
    'export',
    '--format',
    'usersfile',
    '--plaintext',
    '--resource',
    'vpn',
    '-o',
    usersFile,
    '--force',
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return { ...JSON.parse(r.stdout), stderr: r.stderr } as {
    exported: number;
    skipped: { serial: string; reason: string }[];
    stderr: string;
  };
}

describe.skipIf(missing !== null)(
  `pam_oath and FreeRADIUS take the codes of a flashed card${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    beforeAll(async () => {
      unlock = await lockVpcd();
      stopPcscd = await ensurePcscd();
      expect(cli(['resource', 'create', 'vpn']).code).toBe(0);
      expect(
        cli(['resource', 'allow', 'vpn', '--actions', 'enroll', '--token-types', 'programmable,classic']).code,
      ).toBe(0);
      for (const u of ['daemon', 'bin', 'sys', 'games'])
        expect(cli(['user', 'add', u, '--resource', 'vpn', '--email', `${u}@example.com`]).code).toBe(0);
    }, 200_000);

    afterAll(async () => {
      await radius?.stop();
      pam?.remove();
      await stopPcscd();
      unlock?.();
      rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    it('flashes, assigns and enrolls a card; pamtester takes its current code once and refuses a wrong one; radtest gets Accept for a fresh code, Reject for a wrong one', async () => {
      const sim = await startSimulator({
        bin: BIN,
        env,
        model: 'token2-card',
        stateFile: join(dir, 'card.json'),
        args: ['--serial', CARD],
      });
      try {
        const r = cli([
          'device',
          'flash',
          '--reader',
          READER,
          '--resource',
          'vpn',
          '--user',
          'daemon',
          '--yes',
          '--json',
        ]);
        expect(r.code, r.stderr).toBe(0);
        cardSeed = sim.state().seed;
        expect(sim.state()).toMatchObject({ algorithm: 'sha1', period: 30 });
      } finally {
        await sim.stop();
      }
      const enrollStep = Math.floor(Date.now() / 30_000);
      const enroll = cli([
        'enroll',
        '--resource',
        'vpn',
        '--user',
        'daemon',
        '--serial',
        CARD,
        '--code',
        totp(cardSeed, enrollStep),
      ]);
      expect(enroll.code, enroll.stderr).toBe(0);
      // Beside the card: an HOTP token, a SHA-256 one liboath cannot check, and one that leaves its user later.
      const b32 = () => encodeBase32(randomBytes(20));
      expect(
        cli(['tokens', 'add', 'HOTP-1', '--secret', b32(), '--type', 'hotp', '--counter', '5', '--resource', 'vpn'])
          .code,
      ).toBe(0);
      expect(
        cli([
          'tokens',
          'add',
          'SHA256-1',
          '--secret',
          encodeBase32(randomBytes(32)),
          '--algorithm',
          'sha256',
          '--resource',
          'vpn',
        ]).code,
      ).toBe(0);
      expect(cli(['tokens', 'add', 'LEAVES-1', '--secret', b32(), '--resource', 'vpn']).code).toBe(0);
      for (const [serial, login] of [
        ['HOTP-1', 'bin'],
        ['SHA256-1', 'sys'],
        ['LEAVES-1', 'games'],
      ])
        expect(cli(['assign', serial!, login!, '--resource', 'vpn']).code).toBe(0);

      const out = exportUsersFile();
      expect(out.exported).toBe(3);
      expect(out.skipped).toEqual([
        { serial: 'SHA256-1', reason: expect.stringMatching(/SHA256: liboath computes HMAC-SHA1 only/) },
      ]);
      expect(statSync(usersFile).mode & 0o777).toBe(0o600);
      expect(lineOf('sys')).toBeUndefined();
      expect(lineOf('daemon')!.slice(0, 3)).toEqual(['HOTP/T30/6', 'daemon', '-']);

      pam = writePamService(usersFile);
      const step = Math.floor(Date.now() / 30_000);
      const current = totp(cardSeed, step);
      expect(pamLogin(pam.name, 'daemon', wrongCode(step)), 'a wrong code').toBe('reject');
      expect(pamLogin(pam.name, 'daemon', current), 'the current code').toBe('accept');
      expect(pamLogin(pam.name, 'daemon', current), 'the same code again').toBe('reject');
      expect(lineOf('daemon')![5]).toBe(current);
      lastStep = step;

      radius = await startRadius(join(dir, 'raddb'), pam.name);
      const fresh = totp(cardSeed, lastStep + 1);
      expect(radtest(radius, 'daemon', wrongCode(lastStep + 1)), 'a wrong code').toBe('reject');
      expect(radtest(radius, 'daemon', fresh), 'a fresh code').toBe('accept');
      expect(radtest(radius, 'daemon', fresh), 'the same code again').toBe('reject');
      lastStep += 1;
    }, 180_000);

    it('exporting over the file keeps the state pam_oath wrote (the used code stays refused) and drops the line of a token that left its user', () => {
      const used = totp(cardSeed, lastStep);
      expect(cli(['unassign', 'LEAVES-1']).code).toBe(0);
      const out = exportUsersFile();
      expect(out.exported).toBe(2);
      expect(out.stderr).toMatch(/kept pam_oath's counter and last code for 1 unchanged token/);
      expect(out.stderr).toMatch(/dropped 1 line\(s\) .*games/);
      expect(lineOf('games')).toBeUndefined();
      expect(pamLogin(pam!.name, 'games', '123456'), 'the user whose token left').toBe('unknown user');
      expect(lineOf('daemon')![5]).toBe(used);
      expect(statSync(usersFile).mode & 0o777).toBe(0o600);
      expect(pamLogin(pam!.name, 'daemon', used), 'the used code after the export').toBe('reject');
      expect(radtest(radius!, 'daemon', used), 'the used code after the export').toBe('reject');
      // The file pam_oath reads is still whole: the next code opens.
      expect(radtest(radius!, 'daemon', totp(cardSeed, lastStep + 1)), 'the next code').toBe('accept');
      lastStep += 1;
    }, 120_000);

    it('HOTP: the counter in the file advances as pam_oath takes codes, and an export over the file keeps it', () => {
      const seed = JSON.parse(cli(['tokens', 'show', 'HOTP-1', '--json', '--show-secret']).stdout).secret as string;
      expect(lineOf('bin')!.slice(0, 5)).toEqual([
        'HOTP/E/6',
        'bin',
        '-',
        expect.stringMatching(/^[0-9a-f]{40}$/),
        '5',
      ]);
      expect(pamLogin(pam!.name, 'bin', hotp(seed, 5))).toBe('accept');
      expect(pamLogin(pam!.name, 'bin', hotp(seed, 7))).toBe('accept');
      expect(lineOf('bin')!.slice(4, 6)).toEqual(['7', hotp(seed, 7)]);
      exportUsersFile();
      expect(lineOf('bin')!.slice(4, 6)).toEqual(['7', hotp(seed, 7)]);
      expect(pamLogin(pam!.name, 'bin', hotp(seed, 7)), 'the last code again').toBe('reject');
      expect(pamLogin(pam!.name, 'bin', hotp(seed, 6)), 'a code behind the counter').toBe('reject');
      expect(radtest(radius!, 'bin', hotp(seed, 8))).toBe('accept');
      expect(lineOf('bin')![4]).toBe('8');
    }, 120_000);

    it('every form the export writes is one pam_oath takes (60 s, 7 and 8 digits, a 32-byte seed); what it leaves out pam_oath refuses', () => {
      const lab = join(dir, 'lab.oath');
      expect(cli(['resource', 'create', 'lab']).code).toBe(0);
      const forms = [
        {
          login: 'man',
          serial: 'LAB-T60-8',
          args: ['--period', '60', '--digits', '8'],
          seed: randomBytes(20),
          code: (h: string) => oathtool(['--totp', '-s', '60', '-d', '8', h]),
        },
        {
          login: 'lp',
          serial: 'LAB-E-7',
          args: ['--type', 'hotp', '--digits', '7'],
          seed: randomBytes(20),
          code: (h: string) => oathtool(['-d', '7', '-c', '0', h]),
        },
        {
          login: 'mail',
          serial: 'LAB-SEED32',
          args: [],
          seed: randomBytes(32),
          code: (h: string) => oathtool(['--totp', h]),
        },
        {
          login: 'news',
          serial: 'LAB-T45',
          args: ['--period', '45'],
          seed: randomBytes(20),
          code: (h: string) => oathtool(['--totp', '-s', '45', h]),
        },
      ];
      for (const f of forms) {
        expect(cli(['user', 'add', f.login, '--resource', 'lab', '--email', `${f.login}@example.com`]).code).toBe(0);
        expect(
          cli(['tokens', 'add', f.serial, '--secret', encodeBase32(f.seed), ...f.args, '--resource', 'lab']).code,
        ).toBe(0);
        expect(cli(['assign', f.serial, f.login, '--resource', 'lab']).code).toBe(0);
      }
      const r = cli(['export', '--format', 'usersfile', '--plaintext', '--resource', 'lab', '-o', lab, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).skipped).toEqual([
        { serial: 'LAB-T45', reason: 'a 45 s time step: liboath reads 30 or 60 s only' },
      ]);
      const service = writePamService(lab, { digits: null });
      try {
        for (const f of forms.slice(0, 3))
          expect(pamLogin(service.name, f.login, f.code(f.seed.toString('hex'))), f.serial).toBe('accept');
        // The line the export would not write, written by hand: pam_oath does not take its code.
        const t45 = forms[3]!;
        writeFileSync(lab, `HOTP/T45/6\t${t45.login}\t-\t${t45.seed.toString('hex')}\n`);
        // liboath skips a line whose type it does not know: for pam_oath the login has no token at all.
        expect(pamLogin(service.name, t45.login, t45.code(t45.seed.toString('hex'))), 'a 45 s step').toBe(
          'unknown user',
        );
      } finally {
        service.remove();
      }
    }, 120_000);

    it('import --format usersfile reads the file back into another store with its serials and counters', () => {
      const other = { ...env, TOKENSMITH_DB: join(dir, 'other.db') };
      const r = cli(['import', usersFile, '--json'], other);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ imported: 2, failed: 0 });
      const hotpToken = JSON.parse(cli(['tokens', 'show', 'HOTP-1', '--json'], other).stdout);
      expect(hotpToken).toMatchObject({ type: 'hotp', counter: 9, digits: 6, algorithm: 'sha1' });
      const at = lastStep * 30 + 5;
      const code = JSON.parse(cli(['tokens', 'code', CARD, '--at', String(at), '--json'], other).stdout).code;
      expect(code).toBe(totp(cardSeed, lastStep));
    }, 120_000);
  },
);

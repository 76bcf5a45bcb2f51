/**
 * The acceptance test of the YubiKey OATH model: tokensmith's OATH simulator
 * behind the real pcscd and vpcd, written by `tokensmith device flash` and
 * read by Yubico's own ykman (and the other way round). Codes must agree
 * between ykman, `tokensmith tokens code` and oathtool for the same seed and
 * time. Runs in CI; elsewhere it is skipped when pcscd, vpcd or ykman is missing.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { ensurePcscd, lockVpcd, pcscMissing, which } from '../helpers/pcsc.js';
import { startSimulator, type Simulator } from '../helpers/simulator.js';
import { toolsMissing } from '../helpers/tools.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/tokensmith');
const missing =
  pcscMissing('the YubiKey ykman test') ??
  (which('ykman') ? null : 'ykman is not installed (apt-get install yubikey-manager)') ??
  toolsMissing('the YubiKey ykman test', 'oathtool');
if (missing && process.env.CI) throw new Error(`the YubiKey ykman test must run in CI, but ${missing}`);

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-ykman-'));
// ykman keeps its settings under HOME: a fresh one, so a run as root in CI works and leaves nothing behind.
const env = {
  ...process.env,
  HOME: dir,
  TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
  TOKENSMITH_DB: join(dir, 't.db'),
};
// The exact reader: vpcd's second reader ("Virtual PCD 00 01") would make ykman see two.
const READER = 'Virtual PCD 00 00';
let stopPcscd: () => Promise<void> = async () => {};
let unlock: (() => void) | null = null;
let sim: Simulator | null = null;

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const cli = (args: string[]) => run(process.execPath, [BIN, ...args]);
const ykman = (args: string[]) => run('ykman', ['--reader', READER, 'oath', ...args]);

function flash(args: string[]) {
  const r = cli(['device', 'flash', '--model', 'yubikey-oath', '--reader', READER, '--yes', '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { serial: string; credential: string };
}

function oathtool(seedB32: string, args: string[], at: number): string {
  return run('oathtool', [...args, '-b', '-N', `@${at}`, seedB32]).stdout.trim();
}

/** ykman's `accounts code` table as name -> code, with the second it was asked in (retried across a 30 s boundary). */
function ykmanCodes(): { at: number; codes: Map<string, string> } {
  for (;;) {
    const before = Math.floor(Date.now() / 1000);
    const r = ykman(['accounts', 'code']);
    const after = Math.floor(Date.now() / 1000);
    expect(r.code, r.stderr).toBe(0);
    if (Math.floor(before / 30) !== Math.floor(after / 30) || Math.floor(before / 60) !== Math.floor(after / 60))
      continue;
    const codes = new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.replace(/\s+\S+(\s+Account\])?$/, '').trim(), l.trim().split(/\s+/).pop()!] as [string, string]),
    );
    return { at: before, codes };
  }
}

describe.skipIf(missing !== null)(
  `YubiKey OATH: tokensmith and ykman on one simulated key${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    const seeds = {
      alice: encodeBase32(randomBytes(20)),
      bob: encodeBase32(randomBytes(32)),
      carol: encodeBase32(randomBytes(20)),
    };
    const serials: Record<string, string> = {};

    beforeAll(async () => {
      unlock = await lockVpcd();
      stopPcscd = await ensurePcscd();
      sim = await startSimulator({
        bin: BIN,
        env,
        model: 'yubikey-oath',
        stateFile: join(dir, 'state.json'),
        args: ['--serial', '16000077'],
        upWithinMs: 30_000,
      });
    }, 200_000);

    afterAll(async () => {
      await sim?.stop();
      await stopPcscd();
      unlock?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('tokensmith writes TOTP SHA-1/6/30, TOTP SHA-256/8/60 and HOTP; ykman lists exactly them', () => {
      serials.alice = flash(['--name', 'alice', '--seed', seeds.alice]).serial;
      serials.bob = flash([
        '--name',
        'bob',
        '--issuer',
        'Corp',
        '--algorithm',
        'sha256',
        '--digits',
        '8',
        '--period',
        '60',
        '--seed',
        seeds.bob,
      ]).serial;
      serials.carol = flash(['--name', 'carol', '--type', 'hotp', '--seed', seeds.carol]).serial;
      const r = ykman(['accounts', 'list']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').sort()).toEqual(['60/Corp:bob', 'alice', 'carol']);
      // Without --model the key is told by its answer to SELECT of the OATH application (after the other families' probes), and read as with it.
      const bare = cli(['device', 'info', '--reader', READER, '--json']);
      expect(bare.code, bare.stderr).toBe(0);
      expect(JSON.parse(bare.stdout)).toMatchObject({ credentialCount: 3, passwordSet: false });
    }, 120_000);

    it("ykman's codes equal `tokensmith tokens code` and oathtool's for the same seed and time", () => {
      const { at, codes } = ykmanCodes();
      const tokensCode = (serial: string) =>
        JSON.parse(cli(['tokens', 'code', serial, '--at', String(at), '--json']).stdout).code as string;
      expect(codes.get('alice')).toMatch(/^\d{6}$/);
      expect(codes.get('alice')).toBe(tokensCode(serials.alice!));
      expect(codes.get('alice')).toBe(oathtool(seeds.alice, ['--totp'], at));
      expect(codes.get('60/Corp:bob')).toMatch(/^\d{8}$/);
      expect(codes.get('60/Corp:bob')).toBe(tokensCode(serials.bob!));
      expect(codes.get('60/Corp:bob')).toBe(oathtool(seeds.bob, ['--totp=sha256', '-d', '8', '-s', '60'], at));
      // HOTP: ykman computes it only for a single match; its first code is counter 0.
      const hotp = ykman(['accounts', 'code', '--single', 'carol']);
      expect(hotp.code, hotp.stderr).toBe(0);
      expect(hotp.stdout.trim()).toBe(oathtool(seeds.carol, [], 0).split('\n')[0]);
      expect(hotp.stdout.trim()).toBe(JSON.parse(cli(['tokens', 'code', serials.carol!, '--json']).stdout).code);
      const verify = cli([
        'device',
        'verify',
        '--model',
        'yubikey-oath',
        '--reader',
        READER,
        '--name',
        '60/Corp:bob',
        '--json',
      ]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ serial: serials.bob, matches: true });
    }, 120_000);

    it('a credential ykman adds shows in `tokensmith device profiles`, with no store token', () => {
      const add = ykman(['accounts', 'add', '--issuer', 'Lab', '--force', 'dave', encodeBase32(randomBytes(20))]);
      expect(add.code, add.stderr).toBe(0);
      const r = cli(['device', 'profiles', '--model', 'yubikey-oath', '--reader', READER, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const v = JSON.parse(r.stdout);
      expect(v.credentials.map((c: { name: string }) => c.name).sort()).toEqual([
        '60/Corp:bob',
        'Lab:dave',
        'alice',
        'carol',
      ]);
      expect(v.credentials.find((c: { name: string }) => c.name === 'Lab:dave')).toMatchObject({
        issuer: 'Lab',
        account: 'dave',
        serial: null,
      });
      expect(v.credentials.find((c: { name: string }) => c.name === 'alice')).toMatchObject({
        serial: serials.alice,
        state: 'programmed',
      });
      // A flash recorded through pcscd replays through the real driver, the secret redacted.
      const cassette = join(dir, 'flash.cassette');
      const rec = cli([
        'device',
        'flash',
        '--model',
        'yubikey-oath',
        '--reader',
        READER,
        '--yes',
        '--name',
        'rec',
        '--seed',
        seeds.carol,
        '--record',
        cassette,
      ]);
      expect(rec.code, rec.stderr).toBe(0);
      const verified = cli(['cassette', 'verify', cassette, '--json']);
      expect(verified.code, verified.stderr).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, operation: 'flash', outcome: 'ok' });
      expect(cli(['cassette', 'show', cassette]).stdout).toMatch(
        /PUT credential \(body redacted\); redacted: \d+ bytes/,
      );
    }, 120_000);

    it('an access password set with ykman: the right one opens the key for tokensmith, a wrong one is exit 3 with nothing written and the store unchanged', () => {
      const set = ykman(['access', 'change', '--new-password', 'open sesame']);
      expect(set.code, set.stderr).toBe(0);
      const good = join(dir, 'good.pw');
      const bad = join(dir, 'bad.pw');
      writeFileSync(good, 'open sesame\n');
      writeFileSync(bad, 'open barley\n');
      const info = JSON.parse(
        cli(['device', 'info', '--model', 'yubikey-oath', '--reader', READER, '--password-file', good, '--json'])
          .stdout,
      );
      expect(info).toMatchObject({ passwordSet: true, credentialCount: 5 });
      const tokensBefore = cli(['tokens', 'list', '--json']).stdout;
      const auditBefore = cli(['audit', 'list', '--json']).stdout;
      const wrong = cli([
        'device',
        'flash',
        '--model',
        'yubikey-oath',
        '--reader',
        READER,
        '--yes',
        '--name',
        'erin',
        '--password-file',
        bad,
      ]);
      expect(wrong.code, wrong.stderr).toBe(3);
      expect(wrong.stderr).toContain('refused the OATH access password');
      expect(wrong.stderr).not.toContain('open barley');
      expect(cli(['tokens', 'list', '--json']).stdout).toBe(tokensBefore);
      expect(cli(['audit', 'list', '--json']).stdout).toBe(auditBefore);
      expect(sim!.state().credentials.map((c: { name: string }) => c.name)).not.toContain('erin');
      const right = flash(['--name', 'erin', '--password-file', good]);
      expect(right.credential).toBe('erin');
      const listed = ykman(['accounts', 'list', '--password', 'open sesame']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain('erin');
      const locked = ykman(['accounts', 'list', '--password', 'open barley']);
      expect(locked.code).not.toBe(0);
    }, 120_000);

    it('device flash --batch 2: two keys one after another (simulate --cards 2), one credential and one store token each, each key holds its own', async () => {
      await sim!.stop();
      sim = await startSimulator({
        bin: BIN,
        env,
        model: 'yubikey-oath',
        stateFile: join(dir, 'batch-state.json'),
        args: ['--serial', '16000500', '--cards', '2'],
        upWithinMs: 30_000,
      });
      const r = cli([
        'device',
        'flash',
        '--model',
        'yubikey-oath',
        '--reader',
        READER,
        '--batch',
        '2',
        '--issuer',
        'Batch',
        '--wait',
        '20',
        '--yes',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.flashed).toHaveLength(2);
      expect(new Set(out.flashed.map((f: { deviceId: string }) => f.deviceId)).size).toBe(2);
      expect(
        out.flashed.every((f: { credential: string; serial: string }) => f.credential === `Batch:${f.serial}`),
      ).toBe(true);
      // Each simulated key left the reader once written and read back: its state file says what it holds.
      const cards = sim!.state().cards as { deviceId: string; credentials: { name: string }[] }[];
      expect(cards.map((c) => [c.deviceId.toUpperCase(), c.credentials.map((x) => x.name)])).toEqual(
        out.flashed.map((f: { deviceId: string; credential: string }) => [f.deviceId, [f.credential]]),
      );
    }, 120_000);
  },
);

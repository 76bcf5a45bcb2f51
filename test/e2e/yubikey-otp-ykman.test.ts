/**
 * Acceptance for yubikey-otp: yubikey-manager (ykman) and tokensmith both
 * program the OTP simulator through the real PC/SC stack (pcscd + vpcd,
 * OTP over CCID). The frame ykman sends is captured from its DEBUG log and
 * must equal, byte for byte, the frame tokensmith sends for the same
 * credential (read from tokensmith's own cassette of the session); ykman then
 * reads back the slot status tokensmith wrote.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32, encodeBase32 } from '../../src/core/codecs.js';
import { ensurePcscd, lockVpcd, pcscMissing, waitForCardSeen, which } from '../helpers/pcsc.js';
import { startSimulator, type Simulator } from '../helpers/simulator.js';
import { toolsAbsent } from '../helpers/tools.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/tokensmith');
const missing =
  pcscMissing('the yubikey-otp ykman test') ??
  (which('ykman') ? null : 'ykman is not installed (apt-get install yubikey-manager)') ??
  toolsAbsent('oathtool');
if (missing && process.env.CI) throw new Error(`the yubikey-otp ykman test must run in CI, but ${missing}`);

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-ykotp-'));
const env = {
  ...process.env,
  TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
  TOKENSMITH_DB: join(dir, 't.db'),
};
const READER = 'Virtual PCD 00 00';
/** RFC 4226's labelled test seed: safe in logs and cassettes. */
const RFC_SEED = Buffer.from('12345678901234567890', 'ascii');
const RFC_B32 = encodeBase32(RFC_SEED);
let stopPcscd: () => Promise<void> = async () => {};
let unlock: (() => void) | null = null;
let sim: Simulator | null = null;

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const cli = (args: string[]) => run(process.execPath, [BIN, ...args]);
const ykman = (args: string[]) => run(which('ykman')!, ['--log-level', 'DEBUG', '--reader', READER, ...args]);

/** The OTP config APDUs (INS 01, P1 = CONFIG 1 or 2) in ykman's DEBUG log. */
function ykmanConfigFrames(log: string): string[] {
  return [...log.matchAll(/SEND: (0001(?:01|03)00[0-9a-f]+)/g)].map((m) => m[1]!);
}

/** The command frames of a tokensmith cassette, as lower-case hex without spaces. */
function cassetteCommands(path: string): string[] {
  const c = JSON.parse(readFileSync(path, 'utf8')) as { frames: { dir: string; hex: string }[] };
  return c.frames.filter((f) => f.dir === 'command').map((f) => f.hex.replace(/ /g, '').toLowerCase());
}

describe.skipIf(missing !== null)(
  `yubikey-otp against ykman over pcscd and vpcd${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    beforeAll(async () => {
      unlock = await lockVpcd();
      stopPcscd = await ensurePcscd();
      sim = await startSimulator({
        bin: BIN,
        env,
        model: 'yubikey-otp',
        stateFile: join(dir, 'state.json'),
        args: ['--serial', '12345678'],
        upWithinMs: 30_000,
      });
      // ykman does not wait for a card: start only once pcscd has seen it (see waitForCardSeen).
      await waitForCardSeen(BIN, env, READER);
    }, 200_000);

    afterAll(async () => {
      await sim?.stop();
      await stopPcscd();
      unlock?.();
      rmSync(dir, { recursive: true, force: true });
    });

    // ykman's identifier ubhe00000001: OMP+TT "ubhe" in modhex is E1 63, the MUI 00000001 in BCD is 00 00 00 01.
    it('tokensmith sends the byte-identical CONFIG frame ykman sends, for 8 digits in slot 2 and for a token id and counter in slot 1', async () => {
      const y2 = ykman(['otp', 'hotp', '2', RFC_B32, '--digits', '8', '-f']);
      expect(y2.code, y2.stderr).toBe(0);
      const y1 = ykman([
        'otp',
        'hotp',
        '1',
        RFC_B32,
        '--digits',
        '6',
        '--counter',
        '32',
        '--identifier',
        'ubhe00000001',
        '-f',
      ]);
      expect(y1.code, y1.stderr).toBe(0);
      const [ykSlot2] = ykmanConfigFrames(y2.stderr + y2.stdout);
      const [ykSlot1] = ykmanConfigFrames(y1.stderr + y1.stdout);
      expect(ykSlot2, 'ykman logged its slot 2 frame').toMatch(/^000103003a/);
      expect(ykSlot1, 'ykman logged its slot 1 frame').toMatch(/^000101003a/);
      expect(sim!.state().slots[1]).toMatchObject({
        configured: true,
        hotp: true,
        digits: 8,
        keyHex: RFC_SEED.toString('hex'),
      });

      const c2 = join(dir, 'slot2.cassette');
      const t2 = cli([
        'device',
        'flash',
        '--model',
        'yubikey-otp',
        '--reader',
        READER,
        '--slot',
        '2',
        '--seed',
        RFC_B32,
        '--digits',
        '8',
        '--force',
        '--yes',
        '--json',
        '--record',
        c2,
      ]);
      expect(t2.code, t2.stderr).toBe(0);
      expect(cassetteCommands(c2)).toContain(ykSlot2);
      const c1 = join(dir, 'slot1.cassette');
      const t1 = cli([
        'device',
        'flash',
        '--model',
        'yubikey-otp',
        '--reader',
        READER,
        '--slot',
        '1',
        '--seed',
        RFC_B32,
        '--counter',
        '32',
        '--token-id',
        'e16300000001',
        '--force',
        '--yes',
        '--record',
        c1,
      ]);
      expect(t1.code, t1.stderr).toBe(0);
      expect(cassetteCommands(c1)).toContain(ykSlot1);
      // The cassette replays through the real driver.
      const v = cli(['cassette', 'verify', c1]);
      expect(v.code, v.stderr + v.stdout).toBe(0);
    }, 120_000);

    it('ykman reads the slot status tokensmith wrote; a configured slot is refused without --force (exit 5)', async () => {
      const y = ykman(['otp', 'info']);
      expect(y.code, y.stderr).toBe(0);
      expect(y.stdout).toMatch(/Slot 1: programmed/);
      expect(y.stdout).toMatch(/Slot 2: programmed/);
      const info = cli(['device', 'info', '--model', 'yubikey-otp', '--reader', READER, '--json']);
      expect(info.code, info.stderr).toBe(0);
      expect(JSON.parse(info.stdout)).toMatchObject({
        serial: 12345678,
        firmware: '5.4.3',
        link: 'ccid',
        slots: [
          { slot: 1, configured: true, inStore: 'programmed' },
          { slot: 2, configured: true, inStore: 'programmed' },
        ],
      });
      const before = sim!.state();
      const again = cli(['device', 'flash', '--model', 'yubikey-otp', '--reader', READER, '--slot', '2', '--yes']);
      expect(again.code).toBe(5);
      expect(again.stderr).toMatch(/--force/);
      expect(sim!.state().writes).toBe(before.writes);
    }, 60_000);

    it('a slot ykman protected with an access code: the wrong code is one refused write (exit 3, store unchanged), the right one programs it', async () => {
      const y = run(which('ykman')!, [
        '--reader',
        READER,
        'otp',
        '--access-code',
        '0a0b0c0d0e0f',
        'hotp',
        '2',
        RFC_B32,
        '-f',
      ]);
      expect(y.code, y.stderr).toBe(0);
      expect(sim!.state().slots[1].accessCodeSet).toBe(true);
      const shownBefore = cli(['tokens', 'show', 'UBOM12345678_2', '--json']).stdout;
      const before = sim!.state();
      const seed = encodeBase32(randomBytes(20));
      const refused = join(dir, 'refused.cassette');
      const wrong = cli([
        'device',
        'flash',
        '--model',
        'yubikey-otp',
        '--reader',
        READER,
        '--slot',
        '2',
        '--seed',
        seed,
        '--access-code',
        '0a0b0c0d0e00',
        '--force',
        '--yes',
        '--record',
        refused,
      ]);
      expect(wrong.code, wrong.stderr).toBe(3);
      // The recording keeps neither the seed nor the access code, and replays to the same refusal.
      const recorded = readFileSync(refused, 'utf8');
      expect(recorded.replace(/ /g, '')).not.toMatch(/0A0B0C0D0E00/i);
      expect(recorded.replace(/ /g, '').toLowerCase()).not.toContain(decodeBase32(seed).subarray(0, 8).toString('hex'));
      expect(JSON.parse(recorded).header).toMatchObject({
        seed: null,
        seedLength: 20,
        operation: { outcome: { ok: false, error: 'access-code-rejected' } },
      });
      const replayed = cli(['cassette', 'verify', refused]);
      expect(replayed.code, replayed.stderr + replayed.stdout).toBe(0);
      expect(wrong.stderr).toMatch(/access code/);
      expect(wrong.stderr).not.toMatch(/0a0b0c0d0e00/i);
      expect(sim!.state()).toMatchObject({ writes: before.writes, rejected: before.rejected + 1 });
      expect(cli(['tokens', 'show', 'UBOM12345678_2', '--json']).stdout).toBe(shownBefore);
      const codeFile = join(dir, 'access-code');
      writeFileSync(codeFile, '0a0b0c0d0e0f\n', { mode: 0o600 });
      const right = cli([
        'device',
        'flash',
        '--model',
        'yubikey-otp',
        '--reader',
        READER,
        '--slot',
        '2',
        '--seed',
        seed,
        '--counter',
        '16',
        '--access-code-file',
        codeFile,
        '--force',
        '--yes',
        '--json',
      ]);
      expect(right.code, right.stderr).toBe(0);
      expect(JSON.parse(right.stdout)).toMatchObject({
        serial: 'UBOM12345678_2',
        slot: 2,
        digits: 6,
        counter: 16,
        link: 'ccid',
      });
      expect(sim!.state().slots[1]).toMatchObject({ counter: 16, accessCodeSet: true });
      // The store's code is the code the slot types at its counter: oathtool agrees.
      const code = JSON.parse(cli(['tokens', 'code', 'UBOM12345678_2', '--json']).stdout).code;
      const oath = spawnSync(which('oathtool')!, ['--hotp', '--counter=16', '-b', seed], { encoding: 'utf8' });
      expect(oath.stdout.trim()).toBe(code);
      expect(code).toMatch(/^\d{6}$/);
    }, 60_000);

    it('a batch: keys one after another (simulate --cards 2), each registered under its own serial', async () => {
      await sim?.stop();
      sim = await startSimulator({
        bin: BIN,
        env,
        model: 'yubikey-otp',
        stateFile: join(dir, 'state-batch.json'),
        args: ['--serial', '20000001', '--cards', '2'],
        upWithinMs: 30_000,
      });
      const r = cli([
        'device',
        'flash',
        '--model',
        'yubikey-otp',
        '--reader',
        READER,
        '--slot',
        '1',
        '--digits',
        '8',
        '--batch',
        '2',
        '--wait',
        '20',
        '--yes',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      // The one batch report every family's batch prints (flashed: each key's flash result).
      const out = JSON.parse(r.stdout) as { batch: number; flashed: { serial: string }[]; counts: unknown };
      const serials = out.flashed.map((f) => f.serial);
      expect(serials).toEqual(['UBOM20000001_1', 'UBOM20000002_1']);
      expect(out.counts).toEqual({ flashed: 2, skipped: 0, failed: 0, cancelled: 0 });
      for (const serial of serials)
        expect(JSON.parse(cli(['tokens', 'show', serial, '--json']).stdout)).toMatchObject({
          type: 'hotp',
          digits: 8,
          state: 'programmed',
        });
    }, 120_000);

    it('on a fresh key, ykman reads exactly what tokensmith wrote: slot 1 empty, slot 2 programmed', async () => {
      await sim?.stop();
      sim = await startSimulator({
        bin: BIN,
        env,
        model: 'yubikey-otp',
        stateFile: join(dir, 'state-fresh.json'),
        args: ['--serial', '30000003'],
        upWithinMs: 30_000,
      });
      const t = cli(['device', 'flash', '--model', 'yubikey-otp', '--reader', READER, '--slot', '2', '--yes']);
      expect(t.code, t.stderr).toBe(0);
      const y = ykman(['otp', 'info']);
      expect(y.code, y.stderr).toBe(0);
      expect(y.stdout).toMatch(/Slot 1: empty/);
      expect(y.stdout).toMatch(/Slot 2: programmed/);
    }, 60_000);
  },
);

/**
 * The whole PC/SC stack, no hardware: driver -> nfc-pcsc -> libpcsclite ->
 * pcscd -> vpcd -> `tokensmith simulate`. Starts pcscd itself (or uses one
 * that runs), stops it by pid afterwards. Runs in CI; elsewhere it is skipped
 * only when pcscd or vpcd is not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { ensurePcscd, lockVpcd, pcscMissing, which } from '../helpers/pcsc.js';
import { DETECTION_PROBES, startSimulator, type Simulator } from '../helpers/simulator.js';
import { runCliSync } from '../helpers/cli.js';
import { toolsMissing } from '../helpers/tools.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/tokensmith');
// oathtool checks the stored code: without it the file skips (outside CI), rather than drop that check unnamed.
const missing = pcscMissing('the PC/SC end-to-end test') ?? toolsMissing('the PC/SC end-to-end test', 'oathtool');

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-pcsc-'));
const env = {
  ...process.env,
  TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
  TOKENSMITH_DB: join(dir, 't.db'),
};
let stopPcscd: () => Promise<void> = async () => {};
let unlock: (() => void) | null = null;
// The exact reader: other test files may use "Virtual PCD 00 01" (port 35964) at the same time.
const READER = 'Virtual PCD 00 00';

function cli(args: string[]) {
  return runCliSync(args, { env, timeoutMs: 30_000 });
}

function simulate(model: string, args: string[]): Promise<Simulator> {
  return startSimulator({
    bin: BIN,
    env,
    model,
    stateFile: join(dir, `state-${randomBytes(4).toString('hex')}.json`),
    args,
    upWithinMs: 30_000,
  });
}

describe.skipIf(missing !== null)(
  `PC/SC end to end through pcscd and vpcd${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    beforeAll(async () => {
      unlock = await lockVpcd();
      stopPcscd = await ensurePcscd();
    }, 200_000);

    afterAll(async () => {
      await stopPcscd();
      unlock?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('flashes a simulated card: exit 0, the card holds the seed and settings, the store has it programmed, codes match oathtool', async () => {
      const sim = await simulate('token2-card', ['--serial', '86596220000042']);
      try {
        const seed = encodeBase32(randomBytes(32));
        const r = cli([
          'device',
          'flash',
          '--reader',
          READER,
          '--seed',
          seed,
          '--algorithm',
          'sha256',
          '--period',
          '60',
          '--display-timeout',
          '60',
          '--yes',
          '--json',
        ]);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out).toMatchObject({
          serial: '86596220000042',
          model: 'token2-card',
          product: 'OTPC-P2-i',
          commands: 8,
        });
        const s = sim.state();
        expect(s.seed).toBe(seed);
        expect(s).toMatchObject({
          algorithm: 'sha256',
          period: 60,
          displayTimeout: 60,
          displayTimeoutCode: 2,
          authFailures: 0,
        });
        expect(Math.abs(s.clock - Date.now() / 1000)).toBeLessThanOrEqual(2);
        const show = cli(['tokens', 'show', '86596220000042', '--json', '--show-secret']);
        expect(JSON.parse(show.stdout)).toMatchObject({
          secret: seed,
          state: 'programmed',
          kind: 'programmable',
          model: 'OTPC-P2-i',
          algorithm: 'sha256',
          period: 60,
        });
        const at = Math.floor(Date.now() / 1000);
        const code = JSON.parse(cli(['tokens', 'code', '86596220000042', '--at', String(at), '--json']).stdout).code;
        const o = spawnSync(which('oathtool')!, ['--totp=sha256', '--time-step-size=60s', `--now=@${at}`, '-b', seed], {
          encoding: 'utf8',
        });
        expect(o.stdout.trim()).toBe(code);
        const audit = JSON.parse(cli(['audit', 'list', '--json']).stdout) as { action: string; subject: string }[];
        expect(audit.some((a) => a.action === 'token.flash' && a.subject === 'token:86596220000042')).toBe(true);
        // A second flash without --force is refused: the store holds a seed for it.
        const again = cli(['device', 'flash', '--reader', READER, '--yes']);
        expect(again.code).toBe(5);
        expect(again.stderr).toMatch(/--force/);
        expect(sim.state().seed).toBe(seed);
      } finally {
        await sim.stop();
      }
    });

    it('syncs a restricted-sync card with the stored seed and a fresh clock; refuses an unknown one with the reason', async () => {
      const stored = JSON.parse(cli(['tokens', 'show', '86596220000042', '--json', '--show-secret']).stdout).secret;
      const sim = await simulate('token2-card', [
        '--serial',
        '86596220000042',
        '--clock-offset',
        '600',
        '--seed',
        encodeBase32(randomBytes(20)),
      ]);
      try {
        const r = cli(['device', 'sync', '--reader', READER, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out).toMatchObject({ serial: '86596220000042', seedRewritten: true });
        // Read against the host's clock a moment after the token answered: 599 when a second turned in between.
        expect([600, 599], `offset before the sync: ${out.offsetBefore}`).toContain(out.offsetBefore);
        const s = sim.state();
        expect(s.seed).toBe(stored);
        expect(Math.abs(s.clock - Date.now() / 1000)).toBeLessThanOrEqual(2);
      } finally {
        await sim.stop();
      }
      const unknown = await simulate('token2-card', ['--serial', '86596220000099']);
      try {
        const r = cli(['device', 'sync', '--reader', READER]);
        expect(r.code).toBe(5);
        expect(r.stderr).toMatch(/wipes its seed .* does not know this token; nothing was written/);
        // Detection, then the driver's own info: nothing after it.
        expect(unknown.state().commands).toBe(DETECTION_PROBES + 1);
      } finally {
        await unknown.stop();
      }
    });

    it('flashes a batch of three key fobs one after another, assigning them to the users of a CSV', async () => {
      expect(cli(['resource', 'create', 'vpn']).code).toBe(0);
      for (const u of ['alice', 'bob', 'carol'])
        expect(cli(['user', 'add', u, '--resource', 'vpn', '--email', `${u}@example.com`]).code).toBe(0);
      const csv = join(dir, 'users.csv');
      writeFileSync(csv, 'login\nalice\nbob\ncarol\n');
      const sim = await simulate('token2-fob', ['--serial', '86596000000100', '--cards', '3']);
      try {
        const r = cli(['device', 'flash', '--reader', READER, '--users', csv, '--resource', 'vpn', '--yes', '--json']);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.flashed.map((f: { serial: string; token: { user: string } }) => [f.serial, f.token.user])).toEqual([
          ['86596000000100', 'alice'],
          ['86596000000101', 'bob'],
          ['86596000000102', 'carol'],
        ]);
        expect(out.failed).toEqual([]);
        const seeds = sim.state().cards.map((c: { seed: string }) => c.seed);
        expect(new Set(seeds).size).toBe(3);
      } finally {
        await sim.stop();
      }
    });

    it('a card that answers the authentication with 6983 sees one attempt; exit 3, no programmed token', async () => {
      const sim = await simulate('token2-card', ['--serial', '86596220000077', '--locked']);
      try {
        const r = cli(['device', 'flash', '--reader', READER, '--yes']);
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/did not retry/);
        expect(sim.state()).toMatchObject({ authFailures: 1, commands: DETECTION_PROBES + 3, seed: null });
        expect(cli(['tokens', 'show', '86596220000077']).code).toBe(4);
      } finally {
        await sim.stop();
      }
    });

    it('a card pulled between config and seed: exit 3, the message says the seed may be wiped, nothing programmed, an audit row', async () => {
      // after the detection probes, the driver's command 5 is the challenge after the config write
      const sim = await simulate('token2-card', [
        '--serial',
        '86596220000055',
        '--pull-at',
        String(DETECTION_PROBES + 5),
      ]);
      try {
        const r = cli(['device', 'flash', '--reader', READER, '--yes', '--algorithm', 'sha1']);
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/Config written, seed not written: .*seed may be wiped/);
        expect(cli(['tokens', 'show', '86596220000055']).code).toBe(4);
        const audit = JSON.parse(cli(['audit', 'list', '--json']).stdout) as {
          action: string;
          subject: string;
          details: Record<string, unknown>;
        }[];
        const row = audit.find((a) => a.action === 'token.flash-failed' && a.subject === 'token:86596220000055');
        expect(row?.details).toMatchObject({ configWritten: true, seedWritten: false, error: 'card-removed' });
      } finally {
        await sim.stop();
      }
    });
  },
);

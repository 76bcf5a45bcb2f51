/**
 * Molto2 and Protectimus through the whole PC/SC stack, no hardware:
 * CLI -> nfc-pcsc -> pcscd -> vpcd ("Virtual PCD 00 01", port 35964) ->
 * `tokensmith simulate`. Takes the machine-wide vpcd lock, starts pcscd
 * unless one runs, and stops only the pcscd it started.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { ensurePcscd, lockVpcd, pcscMissing } from '../helpers/pcsc.js';
import { startSimulator, type Simulator } from '../helpers/simulator.js';
import { runCliSync } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/tokensmith');
const READER = 'Virtual PCD 00 01';
const VPCD = '127.0.0.1:35964';

const missing = pcscMissing('the Molto2/Protectimus end-to-end test');

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-m2p-'));
const env = {
  ...process.env,
  TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
  TOKENSMITH_DB: join(dir, 't.db'),
};
let stopPcscd: () => Promise<void> = async () => {};
let unlock: (() => void) | null = null;

function cli(args: string[]) {
  return runCliSync(args, { env, timeoutMs: 60_000 });
}

function simulate(model: string, args: string[]): Promise<Simulator> {
  return startSimulator({
    bin: BIN,
    env,
    model,
    stateFile: join(dir, `state-${randomBytes(4).toString('hex')}.json`),
    args,
    vpcd: VPCD,
    upWithinMs: 15_000,
  });
}

describe.skipIf(missing !== null)(
  `Molto2 and Protectimus over pcscd and vpcd${missing ? ` (skipped: ${missing})` : ''}`,
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

    it('Molto2: flash profile 3, list it, refuse the overwrite (exit 5), sync every clock, erase it', async () => {
      const sim = await simulate('token2-molto2', ['--serial', '2310000042', '--clock-offset', '75']);
      try {
        const seed = encodeBase32(randomBytes(32));
        const r = cli([
          'device',
          'flash',
          '--reader',
          READER,
          '--profile',
          '3',
          '--algorithm',
          'sha256',
          '--digits',
          '8',
          '--period',
          '30',
          '--seed',
          seed,
          '--title',
          'VPN',
          '--yes',
          '--json',
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({
          serial: '2310000042-03',
          deviceSerial: '2310000042',
          profile: 3,
          title: 'VPN',
          digits: 8,
        });
        const p3 = sim.state().profiles.find((p: { profile: number }) => p.profile === 3);
        expect(p3).toMatchObject({ seed, title: 'VPN', algorithm: 'sha256', digits: 8, period: 30 });
        // The clock is written as the host's current second; the command crosses pcscd and vpcd, so on a busy
        // machine it can land in the next second (the simulator then reads -1), as on a real reader.
        expect(Math.abs(p3.clockOffset), `clock offset after the flash: ${p3.clockOffset} s`).toBeLessThanOrEqual(1);

        const list = JSON.parse(cli(['device', 'profiles', '--reader', READER, '--json']).stdout);
        expect(list.profileCount).toBe(100);
        expect(
          list.profiles
            .filter((p: { seedPresent: boolean }) => p.seedPresent)
            .map((p: { profile: number; serial: string }) => [p.profile, p.serial]),
        ).toEqual([[3, '2310000042-03']]);

        const again = cli(['device', 'flash', '--reader', READER, '--profile', '3', '--yes']);
        expect(again.code).toBe(5);
        expect(again.stderr).toMatch(/holds a seed .*--force/);
        expect(sim.state().profiles.find((p: { profile: number }) => p.profile === 3).seed).toBe(seed);

        const show = JSON.parse(cli(['tokens', 'show', '2310000042-03', '--json', '--show-secret']).stdout);
        expect(show).toMatchObject({
          deviceSerial: '2310000042',
          profile: 3,
          secret: seed,
          state: 'programmed',
          digits: 8,
          algorithm: 'sha256',
        });

        const sync = cli(['device', 'sync', '--reader', READER, '--all-profiles', '--json']);
        expect(sync.code, sync.stderr).toBe(0);
        // Read against the host's clock a moment after the token answered: 74 when a second turned in between.
        const before = JSON.parse(sync.stdout).offsetsBefore as number[];
        expect(before, `offsets before the sync: ${before}`).toHaveLength(2);
        expect(
          before.every((o) => o === 75 || o === 74),
          `offsets before the sync: ${before}`,
        ).toBe(true);
        const offsets = sim.state().profiles.map((p: { clockOffset: number }) => p.clockOffset);
        expect(offsets).toHaveLength(100);
        expect(offsets.every((o: number) => Math.abs(o) <= 1)).toBe(true);

        const erase = cli(['device', 'erase', '--reader', READER, '--profile', '3', '--yes']);
        expect(erase.code, erase.stderr).toBe(0);
        expect(sim.state().profiles.find((p: { profile: number }) => p.profile === 3).seed).toBeNull();
        expect(JSON.parse(cli(['tokens', 'show', '2310000042-03', '--json']).stdout).state).toBe('in_stock');
        expect(cli(['device', 'erase', '--reader', READER, '--profile', '3', '--yes']).code).toBe(4);
      } finally {
        await sim.stop();
      }
    }, 120_000);

    it('Molto2: a wrong customer key reports the tries left and is tried once', async () => {
      const sim = await simulate('token2-molto2', ['--serial', '2310000043', '--customer-key', 'site-key-2026']);
      try {
        const r = cli(['device', 'flash', '--reader', READER, '--profile', '0', '--yes']);
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/refused the customer key \(6309.*9 tries left/);
        expect(sim.state().triesLeft).toBe(9);
        const ok = cli([
          'device',
          'flash',
          '--reader',
          READER,
          '--profile',
          '0',
          '--customer-key',
          'site-key-2026',
          '--yes',
        ]);
        expect(ok.code, ok.stderr).toBe(0);
        expect(ok.stderr + ok.stdout).not.toMatch(/site-key-2026/);
      } finally {
        await sim.stop();
      }
    }, 60_000);

    it('Molto2: --record is refused by name (exit 2) before anything is written, detected and with --model', async () => {
      const sim = await simulate('token2-molto2', ['--serial', '2310000044']);
      try {
        // Its flash records no session: before the fix it flashed, exited 0 and left no cassette.
        for (const model of [[], ['--model', 'token2-molto2']]) {
          const cassette = join(dir, `m-${model.length}.cassette`);
          const r = cli([
            'device',
            'flash',
            '--reader',
            READER,
            ...model,
            '--profile',
            '3',
            '--record',
            cassette,
            '--yes',
          ]);
          expect(r.code, r.stderr).toBe(2);
          expect(r.stderr).toMatch(
            /token2-molto2 has no --record for device flash \(--record is for token2-nfc, yubikey; the token is a token2-molto2\)/,
          );
          expect(existsSync(cassette)).toBe(false);
          expect(sim.state().profiles).toEqual([]);
        }
        expect(cli(['tokens', 'show', '2310000044-03', '--json']).code).not.toBe(0);
      } finally {
        await sim.stop();
      }
    }, 60_000);

    it('batch: --batch 5 against simulate token2-card --cards 5 flashes 5 serials with 5 seeds in one batch; a second run skips all 5', async () => {
      let sim = await simulate('token2-card', ['--serial', '86596220000500', '--cards', '5']);
      try {
        const r = cli(['device', 'flash', '--reader', READER, '--batch', '5', '--yes', '--json']);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.flashed.map((f: { serial: string }) => f.serial)).toEqual([
          '86596220000500',
          '86596220000501',
          '86596220000502',
          '86596220000503',
          '86596220000504',
        ]);
        expect(new Set(out.flashed.map((f: { batch: number }) => f.batch))).toEqual(new Set([out.batch]));
        expect(new Set(sim.state().cards.map((c: { seed: string }) => c.seed)).size).toBe(5);
        expect(r.stderr).toMatch(/#5: flashed 86596220000504 .*\[done 5 \/ failed 0 \/ skipped 0\]/);
        await sim.stop();
        sim = await simulate('token2-card', ['--serial', '86596220000500', '--cards', '5']);
        const again = cli(['device', 'flash', '--reader', READER, '--batch', '5', '--yes', '--json']);
        expect(again.code, again.stderr).toBe(0);
        const second = JSON.parse(again.stdout);
        expect(second.flashed).toEqual([]);
        expect(second.skipped.map((s: { serial: string }) => s.serial)).toEqual(
          out.flashed.map((f: { serial: string }) => f.serial),
        );
        expect(sim.state().cards.every((c: { seed: string | null }) => c.seed === null)).toBe(true);
      } finally {
        await sim.stop();
      }
    }, 120_000);

    it('Protectimus: info, verify drift 0, clock moved 90 s -> drift +3 steps, sync back to 0, flash refused as not public', async () => {
      let sim = await simulate('protectimus-slim', ['--serial', '70100000042', '--clock-offset', '0']);
      try {
        const info = cli(['device', 'info', '--reader', READER, '--json']);
        expect(info.code, info.stderr).toBe(0);
        expect(JSON.parse(info.stdout)).toMatchObject({
          model: 'protectimus-slim',
          hardwareScheme: '70',
          firmware: '10.01',
          interval: 30,
          rtc: true,
        });
        const seed = sim.state().seed;
        expect(
          cli([
            'tokens',
            'add',
            '70100000042',
            '--secret',
            seed,
            '--manufacturer',
            'Protectimus',
            '--model',
            'protectimus-slim',
            '--kind',
            'programmable',
          ]).code,
        ).toBe(0);
        const v0 = cli(['device', 'verify', '--reader', READER, '--serial', '70100000042', '--json']);
        expect(v0.code, v0.stderr).toBe(0);
        expect(JSON.parse(v0.stdout)).toMatchObject({ serial: '70100000042', ok: true, driftSteps: 0 });

        const flash = cli(['device', 'flash', '--reader', READER, '--yes']);
        expect(flash.code).toBe(5);
        expect(flash.stderr).toMatch(/not public/);
        expect(flash.stderr).toMatch(/Android app/);

        await sim.stop();
        sim = await simulate('protectimus-slim', ['--serial', '70100000042', '--clock-offset', '90']);
        // Found by the card UID remembered at the first verify: no --serial needed now.
        const v1 = cli(['device', 'verify', '--reader', READER, '--json']);
        expect(v1.code, v1.stderr).toBe(0);
        expect(JSON.parse(v1.stdout)).toMatchObject({ driftSteps: 3, driftSeconds: 90 });

        const s = cli(['device', 'sync', '--reader', READER, '--json']);
        expect(s.code, s.stderr).toBe(0);
        expect(JSON.parse(s.stdout)).toMatchObject({ serial: '70100000042', driftBefore: 3, driftAfter: 0 });
        expect(Math.abs(sim.state().clockOffset)).toBeLessThanOrEqual(1);
        expect(JSON.parse(cli(['device', 'verify', '--reader', READER, '--json']).stdout).driftSteps).toBe(0);
      } finally {
        await sim.stop();
      }
    }, 120_000);
  },
);

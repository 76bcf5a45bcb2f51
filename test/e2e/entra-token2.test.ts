/**
 * A Token2 card flashed with `--entra-activate` through the whole PC/SC stack (pcscd + vpcd + `tokensmith
 * simulate`), then pushed, assigned and activated in the local stand-in for Entra and Graph
 * (test/helpers/entra-server.ts), which checks the activation code against the seed the card holds. A
 * second card whose Entra step fails stays flashed and stored, recorded "not in Entra", and a later
 * `entra push --activate` finishes it. Skipped only when pcscd or vpcd is missing (fails under CI).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { ensurePcscd, lockVpcd, pcscMissing } from '../helpers/pcsc.js';
import { startSimulator, type Simulator } from '../helpers/simulator.js';
import { BIN, runCli } from '../helpers/cli.js';
import { FakeEntra } from '../helpers/entra-server.js';

const missing = pcscMissing('the Entra flash end-to-end test');
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-entra-pcsc-'));
const READER = 'Virtual PCD 00 00';
const server = new FakeEntra();
let env: NodeJS.ProcessEnv;
let stopPcscd: () => Promise<void> = async () => {};
let unlock: (() => void) | null = null;

const cli = (args: string[]) => runCli(args, { env, timeoutMs: 60_000 });

function simulate(serial: string): Promise<Simulator> {
  return startSimulator({
    bin: BIN,
    env,
    model: 'token2-card',
    stateFile: join(dir, `state-${serial}.json`),
    args: ['--serial', serial],
    upWithinMs: 30_000,
  });
}

describe.skipIf(missing !== null)(`device flash --entra-activate${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    await server.start();
    server.clientSecret = randomBytes(16).toString('hex');
    env = {
      ...process.env,
      TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
      TOKENSMITH_DB: join(dir, 't.db'),
      NODE_EXTRA_CA_CERTS: server.certFile,
    };
    writeFileSync(join(dir, 'cs.txt'), server.clientSecret + '\n');
    const setup = [
      [
        'entra',
        'connect',
        '--tenant',
        server.tenant,
        '--client-id',
        server.clientId,
        '--client-secret-file',
        join(dir, 'cs.txt'),
        '--graph-url',
        server.graphUrl,
        '--authority-url',
        server.url,
      ],
      ['resource', 'create', 'vpn'],
      ['user', 'add', 'erin@contoso.example', '--resource', 'vpn'],
      ['user', 'add', 'frank@contoso.example', '--resource', 'vpn'],
    ];
    for (const a of setup) {
      const r = await cli(a);
      expect(r.code, r.stderr).toBe(0);
    }
    server.addUser('erin@contoso.example');
    server.addUser('frank@contoso.example');
    unlock = await lockVpcd();
    stopPcscd = await ensurePcscd();
  }, 200_000);

  afterAll(async () => {
    await stopPcscd();
    unlock?.();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('flashes a card and leaves it assigned and active in Entra, the code checked against the seed on the card', async () => {
    const sim = await simulate('86596220000071');
    try {
      const seed = encodeBase32(randomBytes(20));
      const r = await cli([
        'device',
        'flash',
        '--reader',
        READER,
        '--seed',
        seed,
        '--resource',
        'vpn',
        '--user',
        'erin@contoso.example',
        '--entra-activate',
        '--yes',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        serial: '86596220000071',
        entra: { state: 'activated', problem: null },
      });
      expect(sim.state().seed).toBe(seed);
      const erin = server.users.find((u) => u.userPrincipalName === 'erin@contoso.example')!;
      expect(server.bySerial('86596220000071')).toMatchObject({
        status: 'activated',
        secretKey: seed,
        assignedTo: { id: erin.id },
      });
      expect(r.stdout + r.stderr).not.toContain(seed);
    } finally {
      await sim.stop();
    }
  }, 120_000);

  it('an Entra failure leaves the card flashed and stored, "not in Entra"; a later push activates it', async () => {
    const sim = await simulate('86596220000072');
    try {
      server.injections.push({ method: 'POST', path: /hardwareOathDevices$/, status: 500 });
      const r = await cli([
        'device',
        'flash',
        '--reader',
        READER,
        '--resource',
        'vpn',
        '--user',
        'frank@contoso.example',
        '--entra-activate',
        '--yes',
        '--json',
      ]);
      expect(r.code).toBe(4);
      const out = JSON.parse(r.stdout) as { entra: { state: string; problem: string } };
      expect(out.entra).toMatchObject({
        state: 'not-in-entra',
        problem: expect.stringMatching(/generalException/) as string,
      });
      expect(server.bySerial('86596220000072')).toBeUndefined();
      const show = JSON.parse((await cli(['tokens', 'show', '86596220000072', '--json'])).stdout) as { state: string };
      expect(show.state).toBe('assigned');
      writeFileSync(join(dir, 'later.txt'), '86596220000072\n');
      const later = await cli(['entra', 'push', '--serials', join(dir, 'later.txt'), '--activate', '--json']);
      expect(later.code, later.stderr + later.stdout).toBe(0);
      expect(JSON.parse(later.stdout)).toMatchObject({ created: 1, assigned: 1, activated: 1 });
      expect(server.bySerial('86596220000072')?.secretKey).toBe(sim.state().seed);
      expect(server.bySerial('86596220000072')?.status).toBe('activated');
    } finally {
      await sim.stop();
    }
  }, 120_000);

  it('a batch with --entra-activate: each card is pushed, assigned and activated right after it is written', async () => {
    for (const u of ['george@contoso.example', 'hannah@contoso.example']) {
      expect((await cli(['user', 'add', u, '--resource', 'vpn'])).code).toBe(0);
      server.addUser(u);
    }
    writeFileSync(join(dir, 'users.csv'), 'login\ngeorge@contoso.example\nhannah@contoso.example\n');
    const sim = await startSimulator({
      bin: BIN,
      env,
      model: 'token2-fob',
      stateFile: join(dir, 'state-batch.json'),
      args: ['--serial', '86596000000300', '--cards', '2'],
      upWithinMs: 30_000,
    });
    try {
      const r = await cli([
        'device',
        'flash',
        '--reader',
        READER,
        '--users',
        join(dir, 'users.csv'),
        '--resource',
        'vpn',
        '--entra-activate',
        '--yes',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { flashed: { serial: string; entra: { state: string } }[] };
      expect(out.flashed.map((f) => [f.serial, f.entra.state])).toEqual([
        ['86596000000300', 'activated'],
        ['86596000000301', 'activated'],
      ]);
      const seeds = (sim.state().cards as { seed: string }[]).map((c) => c.seed);
      expect(server.bySerial('86596000000300')).toMatchObject({ status: 'activated', secretKey: seeds[0] });
      expect(server.bySerial('86596000000301')).toMatchObject({ status: 'activated', secretKey: seeds[1] });
    } finally {
      await sim.stop();
    }
  }, 120_000);
});

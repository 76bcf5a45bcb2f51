// @module-tag daemon
/**
 * The throw-away family from the outside: the toy family (test/provision/toy-family/, its driver and provision
 * modules as drivers/toy/ and src/provision/families/toy/ would be) compiled to JavaScript beside the built CLI
 * and named in TOKENSMITH_FAMILY_MODULES, nothing else changed. `tokensmith simulate toy-token` serves it over
 * pcscd + vpcd; the CLI reads, flashes, records, replays and batches it as processes, and `tokensmith serve`
 * flashes it through the station's bridge; the store and its audit chain show each.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/core/codecs.js';
import { openStore } from '../../src/store/index.js';
import { assertBuilt, BIN, cliEnv, ROOT, runCli } from '../helpers/cli.js';
import { ensurePcscd, lockVpcd, pcscMissing } from '../helpers/pcsc.js';
import { startSimulator, type Simulator } from '../helpers/simulator.js';
import { pairSession, startServe, type Served } from '../web/serve.js';

const missing = pcscMissing('the throw-away family end-to-end test');
// The exact reader: other test files may use "Virtual PCD 00 01" at the same time.
const READER = 'Virtual PCD 00 00';
// Where `tsc -p tsconfig.json` would put them: their relative imports reach dist/src and dist/drivers.
const TOY_OUT = join(ROOT, 'dist/test/provision/toy-family');

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-toy-e2e-'));
const masterKey = randomBytes(32).toString('hex');
const env = cliEnv({
  TOKENSMITH_MASTER_KEY: masterKey,
  TOKENSMITH_DB: join(dir, 't.db'),
  TOKENSMITH_FAMILY_MODULES: [join(TOY_OUT, 'driver.js'), join(TOY_OUT, 'provision.js')].join(':'),
});

/** The toy family's two modules as JavaScript (the build compiles src, drivers and bench only). */
async function compileToyFamily(): Promise<void> {
  mkdirSync(TOY_OUT, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['test/provision/toy-family/driver.ts', 'test/provision/toy-family/provision.ts'],
    outdir: TOY_OUT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
}

async function cli(args: string[]) {
  const r = await runCli(args, { env, timeoutMs: 60_000 });
  return { ...r, json: () => JSON.parse(r.stdout) as Record<string, any> };
}

function simulate(serial: string, extra: string[] = []): Promise<Simulator> {
  const stateFile = join(dir, `state-${serial}.json`);
  return startSimulator({ bin: BIN, env, model: 'toy-token', stateFile, args: ['--serial', serial, ...extra] });
}

/** The secret the store holds for `serial`, as hex (compared with the seed the simulated card took). */
async function storedSeedHex(serial: string): Promise<string> {
  const show = await cli(['tokens', 'show', serial, '--json', '--show-secret']);
  expect(show.code, show.stderr).toBe(0);
  const { decodeBase32 } = await import('../../src/core/codecs.js');
  return Buffer.from(decodeBase32(show.json().secret, 'secret')).toString('hex');
}

async function expectAuditVerifies(): Promise<void> {
  const v = await cli(['audit', 'verify']);
  expect(v.code, v.stderr + v.stdout).toBe(0);
}

describe.skipIf(missing !== null)(
  `a throw-away family through the built CLI, pcscd + vpcd and the station${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let unlock: () => void = () => {};
    let stopPcscd: () => Promise<void> = async () => {};

    beforeAll(async () => {
      assertBuilt();
      await compileToyFamily();
      unlock = await lockVpcd();
      stopPcscd = await ensurePcscd();
    }, 200_000);

    afterAll(async () => {
      await stopPcscd();
      unlock();
      rmSync(dir, { recursive: true, force: true });
    });

    it('is listed by `device models` with its simulator and cassette operation', async () => {
      const r = await cli(['device', 'models', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().families.at(-1)).toEqual({
        family: 'toy',
        models: ['toy-token'],
        summary: 'a throw-away test family',
        simulatorOptions: [],
        cassetteOperations: ['flash'],
      });
    });

    it('device info, device flash --yes (detected, then --model) and info again: the store holds the seed the card took', async () => {
      const sim = await simulate('TOY-1');
      try {
        const before = await cli(['device', 'info', '--reader', READER, '--json']);
        expect(before.code, before.stderr).toBe(0);
        expect(before.json()).toEqual({ serial: 'TOY-1', inStore: false, state: null });
        const flash = await cli(['device', 'flash', '--reader', READER, '--yes', '--json']);
        expect(flash.code, flash.stderr).toBe(0);
        expect(flash.json()).toMatchObject({ serial: 'TOY-1', model: 'toy-token' });
        expect(sim.state().seedHex).toMatch(/^[0-9a-f]{40}$/);
        expect(await storedSeedHex('TOY-1')).toBe(sim.state().seedHex);
        const after = await cli(['device', 'info', '--reader', READER, '--json']);
        expect(after.json()).toEqual({ serial: 'TOY-1', inStore: true, state: 'programmed' });
        // The family's own refusal: a second flash would overwrite a stored seed; the card keeps the first.
        const again = await cli(['device', 'flash', '--reader', READER, '--yes']);
        expect(again.code).not.toBe(0);
        expect(again.stderr).toMatch(/TOY-1 has a seed in the store/);
      } finally {
        await sim.stop();
      }
      const sim2 = await simulate('TOY-2');
      try {
        const byModel = await cli(['device', 'flash', '--reader', READER, '--model', 'toy-token', '--yes', '--json']);
        expect(byModel.code, byModel.stderr).toBe(0);
        expect(byModel.json()).toMatchObject({ serial: 'TOY-2', model: 'toy-token' });
        expect(await storedSeedHex('TOY-2')).toBe(sim2.state().seedHex);
      } finally {
        await sim2.stop();
      }
      const list = await cli(['tokens', 'list', '--json']);
      const rows = list.json() as unknown as { serial: string; state: string; model: string }[];
      expect(rows.filter((t) => t.serial.startsWith('TOY-')).map((t) => [t.serial, t.state])).toEqual([
        ['TOY-1', 'programmed'],
        ['TOY-2', 'programmed'],
      ]);
      await expectAuditVerifies();
    }, 180_000);

    it('device flash --record makes a cassette that `cassette verify` replays through the toy driver, the seed redacted', async () => {
      const cassette = join(dir, 'toy-flash.cassette');
      const sim = await simulate('TOY-3');
      try {
        const r = await cli(['device', 'flash', '--reader', READER, '--record', cassette, '--yes', '--json']);
        expect(r.code, r.stderr).toBe(0);
      } finally {
        await sim.stop();
      }
      const seedHex = sim.state().seedHex as string;
      const text = readFileSync(cassette, 'utf8');
      expect(text.toLowerCase()).not.toContain(seedHex);
      expect(text).not.toContain(encodeBase32(Buffer.from(seedHex, 'hex')));
      const verify = await cli(['cassette', 'verify', cassette, '--json']);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.json()).toMatchObject({ ok: true, operation: 'flash' });
      const show = await cli(['cassette', 'show', cassette]);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/SEED/);
    }, 120_000);

    // The batch contract: the one flash path (src/provision/flash-batch.ts) with the flasher from the family table
    // (src/provision/batch-families.ts), as the station's batch runs it.
    it.each([
      ['detected', 'TOY-B', []],
      ['--model toy-token', 'TOY-C', ['--model', 'toy-token']],
    ])(
      'device flash --batch 2 (%s) with two cards one after the other: two flashed, one batch row with the counts',
      { timeout: 120_000 },
      async (_how, serial, model) => {
        const sim = await simulate(serial, ['--cards', '2']);
        try {
          const r = await cli(['device', 'flash', '--reader', READER, ...model, '--batch', '2', '--yes', '--json']);
          expect(r.code, r.stderr).toBe(0);
          const out = r.json();
          expect(out.flashed.map((f: { serial: string }) => f.serial)).toEqual([serial, `${serial}-2`]);
          expect(out.counts).toEqual({ flashed: 2, skipped: 0, failed: 0, cancelled: 0 });
          const cards = (sim.state().cards as { serial: string; seedHex: string }[]).map((c) => c.seedHex);
          expect([await storedSeedHex(serial), await storedSeedHex(`${serial}-2`)]).toEqual(cards);
          const store = await openStore({ db: join(dir, 't.db'), env });
          try {
            expect(await store.batches.get(out.batch)).toMatchObject({
              imported: 2,
              skipped: 0,
              failed: 0,
              status: 'done',
            });
          } finally {
            await store.close();
          }
        } finally {
          await sim.stop();
        }
        await expectAuditVerifies();
      },
    );

    describe('the station (`tokensmith serve`)', () => {
      let served: Served | null = null;
      // One page: a pairing link pairs once.
      let ws: Bridge;
      beforeAll(async () => {
        served = await startServe(env, ['--operator', 'toy-test']);
        ws = await openBridge(served);
      }, 60_000);
      afterAll(async () => {
        ws?.close();
        await served?.stop();
      });

      /** The station's JSON API as the paired page calls it. */
      const api = async (path: string) => {
        const r = await fetch(`${served!.origin}${path}`, {
          headers: { origin: served!.origin, authorization: `Bearer ${ws.session}` },
        });
        expect(r.status, path).toBe(200);
        return (await r.json()) as Record<string, unknown>[];
      };

      it("flashes the toy on the server's reader through the bridge, by model and by detection", async () => {
        expect((await api('/api/models')).find((m) => m.model === 'toy-token')).toMatchObject({
          family: 'toy',
          flashable: true,
        });
        const sim = await simulate('TOY-S1');
        try {
          const c = await ws.request({ op: 'connect', reader: READER, waitSeconds: 15 });
          expect(c.ok, JSON.stringify(c.error)).toBe(true);
          const r = await ws.request({ op: 'flash', input: { model: 'toy-token' } });
          expect(r.ok, JSON.stringify(r.error)).toBe(true);
          expect(r.result).toMatchObject({ serial: 'TOY-S1', model: 'toy-token' });
        } finally {
          await sim.stop();
        }
        const sim2 = await simulate('TOY-S2');
        try {
          const c = await ws.request({ op: 'connect', reader: READER, waitSeconds: 15 });
          expect(c.ok, JSON.stringify(c.error)).toBe(true);
          const r = await ws.request({ op: 'flash', input: {} });
          expect(r.ok, JSON.stringify(r.error)).toBe(true);
          expect(r.result).toMatchObject({ serial: 'TOY-S2', model: 'toy-token' });
        } finally {
          await sim2.stop();
        }
        const listed = (await api('/api/tokens?q=TOY-S')).map((t) => [t.serial, t.state]);
        expect(listed).toEqual(
          expect.arrayContaining([
            ['TOY-S1', 'programmed'],
            ['TOY-S2', 'programmed'],
          ]),
        );
        expect(await storedSeedHex('TOY-S1')).toBe(sim.state().seedHex);
        expect(await storedSeedHex('TOY-S2')).toBe(sim2.state().seedHex);
        const audit = (await cli(['audit', 'list', '--json'])).json() as unknown as {
          actor: string;
          subject: string;
        }[];
        expect(audit.filter((a) => a.subject === 'token:TOY-S1').map((a) => a.actor)).toContain('station:toy-test');
        await expectAuditVerifies();
      }, 120_000);

      it("a station batch of two toy cards on the server's reader, in one batch row, until stopped", async () => {
        const sim = await simulate('TOY-SB', ['--cards', '2']);
        try {
          const run = ws.request({ op: 'flash-batch', reader: READER, input: {} });
          const types = () => ws.batchEvents().map((e) => e.type);
          await expect.poll(() => types().filter((t) => t === 'token').length, { timeout: 60_000 }).toBe(2);
          await expect.poll(() => types().at(-1), { timeout: 30_000 }).toBe('waiting');
          expect((await ws.request({ op: 'batch-stop' })).result).toEqual({ stopping: true });
          const r = await run;
          expect(r.ok, JSON.stringify(r.error)).toBe(true);
          expect(r.result).toMatchObject({
            counts: { flashed: 2, skipped: 0, failed: 0, cancelled: 0 },
            stopped: true,
          });
          expect(r.result.flashed.map((f: { serial: string }) => f.serial)).toEqual(['TOY-SB', 'TOY-SB-2']);
          const cards = (sim.state().cards as { seedHex: string }[]).map((c) => c.seedHex);
          expect([await storedSeedHex('TOY-SB'), await storedSeedHex('TOY-SB-2')]).toEqual(cards);
          const store = await openStore({ db: join(dir, 't.db'), env });
          try {
            expect(await store.batches.get(r.result.batch)).toMatchObject({
              imported: 2,
              failed: 0,
              status: 'done',
              operator: 'station:toy-test',
            });
          } finally {
            await store.close();
          }
        } finally {
          await sim.stop();
        }
        await expectAuditVerifies();
      }, 150_000);
    });
  },
);

interface BridgeAnswer {
  ok: boolean;
  result?: any;
  error?: unknown;
}

type Bridge = Awaited<ReturnType<typeof openBridge>>;

/** A paired page's socket to the bridge: requests answered by id, and the batch events it was sent. */
async function openBridge(served: Served) {
  const session = await pairSession(served);
  const ws = new WebSocket(
    `${served.origin.replace('http', 'ws')}/ws`,
    ['tokensmith', `tokensmith-session.${session}`],
    { headers: { origin: served.origin } },
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  // A socket error after the open ends the page: the pending requests then time out with their op named.
  ws.on('error', () => ws.terminate());
  const answers = new Map<number, (m: BridgeAnswer) => void>();
  const batchEvents: { type: string }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw));
    if (m.event === undefined) answers.get(m.id)?.(m);
    else if (m.event === 'batch') batchEvents.push(m.batch);
  });
  let id = 0;
  return {
    request: (body: Record<string, unknown>) =>
      new Promise<BridgeAnswer>((resolve, reject) => {
        const n = ++id;
        const timer = setTimeout(() => reject(new Error(`no answer to ${String(body.op)} within 60 s`)), 60_000);
        answers.set(n, (m) => (clearTimeout(timer), resolve(m)));
        ws.send(JSON.stringify({ ...body, id: n }));
      }),
    session,
    /** The station batch's progress events so far. */
    batchEvents: () => batchEvents,
    close: () => ws.close(),
  };
}

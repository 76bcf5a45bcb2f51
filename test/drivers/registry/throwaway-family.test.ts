// @module-tag daemon
/**
 * Adding a family: a throw-away family, written here in a few lines and
 * loaded through TOKENSMITH_FAMILY_MODULES, is listed by `device models`,
 * simulated by `simulate` (answering over a vpcd-speaking socket) and
 * replayed by `cassette verify`, with no other file changed. Needs the build
 * (the CLI runs from dist/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePcscd, lockVpcd, pcscMissing } from '../../helpers/pcsc.js';
import { startSimulator } from '../../helpers/simulator.js';
import { startRecording } from '../../../src/provision/cassettes.js';
import { readCassette, writeCassette } from '../../../src/transport/cassette.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { runCliSync } from '../../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-family-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The whole family: a token that answers PING (00 01) with its counter and 90 00. */
const TOY = `
let n = 0;
export default {
  name: 'toy', models: ['toy-token'], summary: 'a throw-away test family', operations: ['ping'], verbs: ['info'],
  async readInfo(model, transport) {
    const r = await transport.transmit(Uint8Array.of(0x00, 0x01, 0x00, 0x00));
    return { pings: r[0] };
  },
  describe: (b, dir) => (dir === 'command' ? (b[1] === 1 ? 'PING' : 'unknown') : 'pong ' + b[0]),
  simulator: {
    defaultSerial: () => 'TOY-1', options: [],
    create: (model, s, onChange) => ({
      atr: Uint8Array.of(0x3b, 0x00),
      process: () => (n++, onChange({ readBack: false, lookedAt: true }), Uint8Array.of(n, 0x90, 0x00)),
      stateView: () => ({ serial: s.serial, pings: n }),
    }),
  },
  async replay(model, op, transport) {
    const r = await transport.transmit(Uint8Array.of(0x00, 0x01, 0x00, 0x00));
    if (r[r.length - 2] !== 0x90) throw new Error('toy: no 9000');
  },
};
`;
const toyPath = join(dir, 'toy-family.mjs');
writeFileSync(toyPath, TOY);
const env = { ...process.env, TOKENSMITH_DB: join(dir, 't.db'), TOKENSMITH_FAMILY_MODULES: toyPath };

function cli(args: string[]) {
  return runCliSync(args, { env });
}

describe('a family registered from outside the source tree', () => {
  it('device models lists it next to the built-in families', () => {
    const r = cli(['device', 'models', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const names = JSON.parse(r.stdout).families.map((f: { family: string }) => f.family);
    expect(names).toEqual(['token2-nfc', 'token2-molto2', 'protectimus', 'yubikey', 'toy']);
  });

  it('cassette verify replays a recording through its driver, and show decodes with its describer', async () => {
    const { default: toy } = await import(toyPath);
    const path = join(dir, 'toy.cassette');
    const session = startRecording(
      new MemoryTransport(toy.simulator.create('toy-token', { serial: 'TOY-1', clockOffset: 0 }, () => {})),
      path,
      {
        source: 'simulator',
        operation: 'ping',
        params: {},
        seed: null,
        model: 'toy-token',
      },
    );
    await toy.replay('toy-token', { name: 'ping', params: {}, outcome: { ok: true } }, session.transport, {
      now: Date.now,
      seed: null,
    });
    session.save({ ok: true });
    const ok = cli(['cassette', 'verify', path, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, operation: 'ping', commands: 1 });
    expect(cli(['cassette', 'show', path]).stdout).toMatch(/PING/);
    // One command byte changed: the toy driver sends 00 01, the recording now says 00 02.
    const c = readCassette(path);
    c.frames.find((f) => f.dir === 'command')!.bytes[1] = 0x02;
    writeCassette(join(dir, 'changed.cassette'), c);
    const bad = cli(['cassette', 'verify', join(dir, 'changed.cassette')]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/expected .*unknown/);
    expect(bad.stderr).toMatch(/actual .*PING/);
  });

  it('simulate runs its simulator and answers commands over the vpcd socket', async () => {
    // A stand-in for vpcd on a free port: asks for the ATR, sends one PING.
    let sock!: Socket;
    const server = createServer();
    const connected = new Promise<void>((r) => server.once('connection', (s) => ((sock = s), r())));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/tokensmith'), 'simulate', 'toy-token', '--vpcd', `127.0.0.1:${port}`],
      { env, stdio: 'pipe' },
    );
    try {
      await connected;
      const answers: Buffer[] = [];
      const two = new Promise<void>((r) =>
        sock.on('data', (d) => (answers.push(d), Buffer.concat(answers).length >= 2 + 2 + 2 + 3 && r())),
      );
      sock.write(Buffer.from([0x00, 0x01, 0x04])); // get ATR
      sock.write(Buffer.from([0x00, 0x04, 0x00, 0x01, 0x00, 0x00])); // PING
      await two;
      expect(Buffer.concat(answers).toString('hex')).toBe('00023b00' + '0003019000');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      sock?.destroy();
      server.close();
    }
  });

  it('an option its simulator does not take is refused by name (exit 2), not ignored', () => {
    const r = cli(['simulate', 'toy-token', '--vpcd', '127.0.0.1:1', '--locked']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/toy has no --locked/);
  });

  it('device refuses a verb the family does not list, by name, before opening a reader (exit 2)', () => {
    for (const verb of ['sync', 'verify', 'flash']) {
      const r = cli(['device', verb, '--model', 'toy-token', '--reader', 'no-such-reader', '--wait', '0', '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`toy-token has no '${verb}' \\(toy supports device info\\)`));
    }
    // A family that lists a verb it gives no code for is not handed to the Token2 code.
    const syncer = join(dir, 'syncer-family.mjs');
    writeFileSync(
      syncer,
      `export default { name: 'syncer', models: ['syncer-1'], summary: 's', operations: [], verbs: ['info', 'sync'], describe: () => '', async replay() {} };`,
    );
    const own = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin/tokensmith'),
        'device',
        'sync',
        '--model',
        'syncer-1',
        '--reader',
        'no-such-reader',
        '--wait',
        '0',
      ],
      {
        encoding: 'utf8',
        env: { ...env, TOKENSMITH_FAMILY_MODULES: syncer },
      },
    );
    expect(own.status, own.stderr).toBe(2);
    expect(own.stderr).toMatch(/syncer-1: the syncer family lists 'sync' but gives tokensmith no code for it/);
    const p = cli(['device', 'profiles', '--model', 'toy-token', '--reader', 'no-such-reader', '--wait', '0']);
    expect(p.code, p.stderr).toBe(2);
    expect(p.stderr).toMatch(/toy-token has no 'profiles'/);
  });

  it('a family with its own opener (no PC/SC), flag and verb handler runs through device <verb> with no other file changed', () => {
    // A USB-HID-like key: the family says how its device is opened, declares a flag for its sync, and carries the handler.
    const hid = join(dir, 'hid-family.mjs');
    writeFileSync(
      hid,
      `let pings = 0;
export default {
  name: 'toyhid', models: ['toyhid-key'], summary: 'a throw-away family over its own transport', operations: [], verbs: ['sync'],
  describe: () => '', async replay() {},
  flags: { sync: [{ flag: '--times <n>', description: 'Toyhid: how many pings' }] },
  open: async (o) => ({
    readerName: 'toyhid on ' + (o.reader ?? 'the first port'), atr: Uint8Array.of(), kind: 'toyhid',
    transmit: async () => Uint8Array.of(++pings, 0x90, 0x00), isPresent: () => true, onRemoved: () => () => {}, close: async () => {},
  }),
  handlers: {
    async sync(ctx) {
      let last = 0;
      for (let i = 0; i < Number(ctx.options.times ?? 1); i++) last = (await ctx.transport.transmit(Uint8Array.of(0x00, 0x01)))[0];
      ctx.output.result({ family: ctx.family.name, model: ctx.model, reader: ctx.transport.readerName, pings: last, storeOpen: typeof ctx.store.tokens === 'object' }, 'synced ' + ctx.model);
    },
  },
};
`,
    );
    const run = (args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/tokensmith'), ...args], {
        encoding: 'utf8',
        env: { ...env, TOKENSMITH_FAMILY_MODULES: hid },
      });
    const ok = run(['device', 'sync', '--model', 'toyhid-key', '--reader', 'hidraw3', '--times', '3', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({
      family: 'toyhid',
      model: 'toyhid-key',
      reader: 'toyhid on hidraw3',
      pings: 3,
      storeOpen: true,
    });
    expect(run(['device', 'sync', '--help']).stdout).toMatch(/--times <n>\s+Toyhid: how many pings/);
    // A flag of another family is refused by name before the device is opened.
    const stray = run(['device', 'sync', '--model', 'toyhid-key', '--all-profiles']);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toMatch(
      /toyhid-key has no --all-profiles for device sync \(--all-profiles is for token2-molto2; the token is a toyhid\)/,
    );
  });

  it("a built-in family's flag given for another built-in family is refused by name before a reader is opened", () => {
    const r = cli([
      'device',
      'info',
      '--model',
      'token2-card',
      '--serial',
      '70100000042',
      '--reader',
      'no-such-reader',
      '--wait',
      '0',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/token2-card has no --serial for device info \(--serial is for protectimus/);
    const p = cli([
      'device',
      'flash',
      '--model',
      'protectimus-slim',
      '--profile',
      '3',
      '--yes',
      '--reader',
      'no-such-reader',
      '--wait',
      '0',
    ]);
    expect(p.code).toBe(5);
    expect(p.stderr).toMatch(/not public/);
  });

  it("device names an unknown --model with the registry's list (no fall-through to a default family)", () => {
    const r = cli(['device', 'info', '--model', 'nope-token', '--reader', 'no-such-reader', '--wait', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'nope-token' is not a model tokensmith knows; use one of .*toy-token/);
  });

  const missing = pcscMissing('device info on the throw-away family');
  it.skipIf(missing !== null)(
    `device info reaches its readInfo through pcscd and vpcd${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      const unlock = await lockVpcd();
      const stopPcscd = await ensurePcscd();
      try {
        const sim = await startSimulator({
          bin: join(ROOT, 'bin/tokensmith'),
          env,
          model: 'toy-token',
          stateFile: join(dir, 'toy-state.json'),
          vpcd: '127.0.0.1:35964',
          upWithinMs: 15_000,
        });
        try {
          const r = cli(['device', 'info', '--model', 'toy-token', '--reader', 'Virtual PCD 00 01', '--json']);
          expect(r.code, r.stderr).toBe(0);
          const info = JSON.parse(r.stdout);
          expect(info).toMatchObject({ family: 'toy', model: 'toy-token', reader: 'Virtual PCD 00 01' });
          // The count the toy answered with is the count its simulator keeps: the answer came from the device.
          expect(info.pings).toBeGreaterThanOrEqual(1);
          expect(sim.state().pings).toBe(info.pings);
        } finally {
          await sim.stop();
        }
      } finally {
        await stopPcscd();
        unlock();
      }
    },
    120_000,
  );

  it('an unknown model is a usage error listing the known ones; a bad module path is named', () => {
    const r = cli(['simulate', 'nope-token', '--vpcd']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'nope-token' is not a model tokensmith knows; use one of .*toy-token/);
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/tokensmith'), 'device', 'models'], {
      encoding: 'utf8',
      env: { ...env, TOKENSMITH_FAMILY_MODULES: join(dir, 'missing.mjs') },
    });
    expect(bad.status).toBe(4);
    expect(bad.stderr).toMatch(/missing\.mjs \(named in TOKENSMITH_FAMILY_MODULES\) could not be loaded/);
  });
});

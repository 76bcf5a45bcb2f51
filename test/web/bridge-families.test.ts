/**
 * Every family through the station's bridge: the model select comes from the
 * registry (a family that cannot be flashed is listed with its reason), a
 * Molto2 profile is flashed by the server's flash service and by its batch,
 * and a Protectimus is refused with the reason, nothing written. In-process
 * server; the reader hub holds simulated devices in memory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Molto2Simulator } from '../../drivers/token2-molto2/simulator.js';
import { ProtectimusSimulator } from '../../drivers/protectimus/simulator.js';
import { decodeBase32 } from '../../src/core/codecs.js';
import { findToken, viewToken } from '../../src/provision/tokens.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import type { ReaderHub } from '../../src/web/readers.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';

type Device = Molto2Simulator | ProtectimusSimulator;
type Answer = { ok: boolean; result?: any; error?: { code: string; message: string } };

/** One reader whose device the test swaps; each open takes the next device of `queue` (or the current one). */
function swapHub(reader: string) {
  const state = { queue: [] as Device[], current: null as MemoryTransport | null };
  const hub: ReaderHub = {
    list: async () => [{ name: reader, token: state.queue.length > 0, atr: null }],
    open: async () => {
      const d = state.queue.shift();
      if (!d)
        throw Object.assign(
          new (await import('../../src/core/errors.js')).DeviceError('no token', { code: 'no-token' }),
        );
      state.current = new MemoryTransport(d, { readerName: reader });
      return state.current;
    },
    close: async () => undefined,
  };
  return { hub, state };
}

describe('the station reaches every family of the registry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-families-'));
  const env = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
  const { hub, state } = swapHub('Station Reader 00 00');
  let store: Store;
  let server: WebServer;
  let session = '';
  let ws: WebSocket;
  let nextId = 1;
  const events: any[] = [];
  const answers = new Map<number, (a: Answer) => void>();

  const request = (body: Record<string, unknown>) =>
    new Promise<Answer>((resolve) => {
      const id = nextId++;
      answers.set(id, resolve);
      ws.send(JSON.stringify({ ...body, id }));
    });

  beforeAll(async () => {
    store = await openStore({ db: join(dir, 't.db'), env });
    server = await startWebServer({ store, hub, operator: 'alice' });
    const pair = await fetch(`${server.origin}/api/pair`, {
      method: 'POST',
      headers: { origin: server.origin, 'content-type': 'application/json' },
      body: JSON.stringify({ code: server.pairingToken }),
    });
    session = ((await pair.json()) as { session: string }).session;
    ws = new WebSocket(`${server.origin.replace('http', 'ws')}/ws`, ['tokensmith', `tokensmith-session.${session}`], {
      headers: { origin: server.origin },
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw));
      if (m.event === 'batch') {
        events.push(m.batch);
        // The operator takes a flashed device off when asked.
        if (m.batch.type === 'take-off') state.current?.remove();
      } else if (m.event === undefined) answers.get(m.id)?.(m);
    });
  });

  afterEach(() => {
    state.queue.length = 0;
    events.length = 0;
  });

  afterAll(async () => {
    ws?.close();
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/api/models lists every model of the registry; Protectimus is listed as not flashable, with the reason', async () => {
    const res = await fetch(`${server.origin}/api/models`, {
      headers: { origin: server.origin, authorization: `Bearer ${session}` },
    });
    const models = (await res.json()) as {
      model: string;
      family: string;
      flashable: boolean;
      why?: string;
      products: string[];
    }[];
    expect(models.map((m) => m.model)).toEqual(
      expect.arrayContaining([
        'token2-card',
        'token2-fob',
        'token2-fob-c302',
        'token2-molto2',
        'protectimus-slim',
        'protectimus-flex',
      ]),
    );
    expect(models.find((m) => m.model === 'token2-card')).toMatchObject({
      flashable: true,
      products: expect.arrayContaining(['OTPC-P2-i']),
    });
    expect(models.find((m) => m.model === 'token2-molto2')).toMatchObject({ family: 'token2-molto2', flashable: true });
    for (const p of ['protectimus-slim', 'protectimus-flex'])
      expect(models.find((m) => m.model === p)).toMatchObject({
        flashable: false,
        why: expect.stringMatching(/seed-write command.*not public.*tokens add/),
      });
  });

  it('flashes a Molto2 profile through the bridge: the store token <serial>-03 holds the seed the device holds', async () => {
    const molto2 = new Molto2Simulator({ serial: '2310000077' });
    state.queue.push(molto2);
    expect((await request({ op: 'connect' })).ok).toBe(true);
    const r = await request({
      op: 'flash',
      input: {
        model: 'token2-molto2',
        profile: '3',
        algorithm: 'sha256',
        digits: '8',
        period: '60',
        displayTimeout: '30',
        title: 'VPN',
      },
    });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result).toMatchObject({
      serial: '2310000077-03',
      deviceSerial: '2310000077',
      profile: 3,
      digits: 8,
      title: 'VPN',
    });
    const p3 = molto2.state().profiles.find((p) => p.profile === 3)!;
    expect(p3).toMatchObject({ algorithm: 'sha256', digits: 8, period: 60, title: 'VPN' });
    const stored = await viewToken(store, await findToken(store, '2310000077-03'), { showSecret: true });
    expect(Buffer.from(decodeBase32(stored.secret!, 'secret')).toString('hex')).toBe(p3.seedHex);
    expect(stored).toMatchObject({ state: 'programmed', digits: 8 });
    const row = (await store.audit.list()).find(
      (a) => a.action === 'token.flash' && a.subject === 'token:2310000077-03',
    );
    expect(row?.actor).toBe('station:alice');
    await request({ op: 'disconnect' });
  });

  it('a Molto2 told by its ATR without the model: refused with what to choose, nothing written', async () => {
    const molto2 = new Molto2Simulator({ serial: '2310000078' });
    state.queue.push(molto2);
    await request({ op: 'connect' });
    const r = await request({ op: 'flash', input: { algorithm: 'sha1' } });
    expect(r.error).toMatchObject({
      code: 'profile-needed',
      message: expect.stringMatching(/Molto2: choose the model token2-molto2 and the profile/),
    });
    expect(molto2.state().profiles).toEqual([]);
    await request({ op: 'disconnect' });
  });

  it('a Protectimus on the reader (told by its ATR, or chosen) is refused with the reason; nothing is written or stored', async () => {
    for (const input of [{}, { model: 'protectimus-slim' }]) {
      const token = new ProtectimusSimulator({ serial: '70100000099' });
      state.queue.push(token);
      await request({ op: 'connect' });
      const r = await request({ op: 'flash', input });
      expect(r.error).toMatchObject({ code: 'seed-write-not-public', message: expect.stringMatching(/not public/) });
      await request({ op: 'disconnect' });
    }
    expect(await store.tokens.findOne('Protectimus', '70100000099')).toBeNull();
  });

  it('a Molto2 batch: the same profile on each device put on the reader, in one batch, until stopped', async () => {
    const devices = [new Molto2Simulator({ serial: '2310000081' }), new Molto2Simulator({ serial: '2310000082' })];
    state.queue.push(...devices);
    const run = request({ op: 'flash-batch', input: { model: 'token2-molto2', profile: '0' } });
    await expect.poll(() => events.filter((e) => e.type === 'token').length).toBe(2);
    await expect.poll(() => events.at(-1)?.type).toBe('waiting');
    expect((await request({ op: 'batch-stop' })).result).toEqual({ stopping: true });
    const r = await run;
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.result).toMatchObject({ counts: { flashed: 2, skipped: 0, failed: 0, cancelled: 0 }, stopped: true });
    expect(r.result.flashed.map((f: { serial: string }) => f.serial)).toEqual(['2310000081-00', '2310000082-00']);
    expect(await store.batches.get(r.result.batch)).toMatchObject({
      format: 'token2-molto2',
      imported: 2,
      skipped: 0,
      failed: 0,
      status: 'done',
      operator: 'station:alice',
    });
    for (const d of devices) expect(d.state().profiles[0]?.seedHex).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a batch with a Protectimus model is refused before any token is touched', async () => {
    const r = await request({ op: 'flash-batch', input: { model: 'protectimus-flex' } });
    expect(r.error).toMatchObject({ code: 'seed-write-not-public' });
  });
});

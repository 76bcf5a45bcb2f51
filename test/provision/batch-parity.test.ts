/**
 * The same scripted batch through `device flash --batch` (the CLI's runner)
 * and through the station (a page's socket asking the server for a batch):
 * a card flashed, one the store holds a seed for (skipped), one pulled
 * mid-write (failed, left unregistered), one on the reader when the operator
 * stops (cancelled, nothing written). Both must report the same counts and
 * tokens and leave the same batch record, audit rows and tokens: with a model,
 * and without one (each token's family told by what it answers). The CLI's
 * flasher comes from the family table as `device flash --batch` builds it.
 * The keys family (YubiKey OTP, which the station does not flash) runs the same
 * script through the CLI's batch and through the service over the station's
 * token source, and counts it as the Token2 cards are counted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliBatch } from '../../src/cli/commands/batch-flash.js';
import { Output } from '../../src/cli/context.js';
import { batchFamilyOf, batchFlasher } from '../../src/provision/batch-families.js';
import type { DeviceOpts } from '../../src/provision/device-session.js';
import { noPrompter } from '../../src/provision/families/verb-types.js';
import {
  BatchStop,
  runFlashBatch,
  type BatchEvent,
  type FlashBatchReport,
  type TokenFlasher,
} from '../../src/provision/flash-batch.js';
import { addToken } from '../../src/provision/tokens.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import type { MemoryTransport } from '../../src/transport/memory.js';
import type { ReaderHub } from '../../src/web/readers.js';
import { hubSource } from '../../src/web/bridge-batch.js';
import { startWebServer } from '../../src/web/server.js';
import { KNOWN_SEED, SCRIPT, scriptedCards } from './batch-cards.js';
import { OTP_SCRIPT, otpKeys, otpOptions, otpOutcome, scriptedKeys } from './batch-keys.js';
import { memoryStore } from './helpers-ss.js';

const READER = 'Scripted Reader 00 00';
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-batch-parity-'));
const env = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freshStore(name: string): Promise<Store> {
  const store = await openStore({ db: join(dir, `${name}.db`), env });
  await addToken(store, { serial: SCRIPT.known, secret: KNOWN_SEED, kind: 'programmable', manufacturer: 'Token2' });
  return store;
}

/** An operator who takes each card off when asked to. */
function takeOff(transports: MemoryTransport[]) {
  return (e: BatchEvent) => e.type === 'take-off' && transports[e.index - 1]!.remove();
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return { stream: new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) }), text: () => text };
}

/** The flasher `device flash --batch` builds for these options (no terminal, --yes). */
export async function cliFlasher(store: Store, o: DeviceOpts): Promise<TokenFlasher> {
  const output = { result: () => {}, info: () => {}, interactive: false };
  const base = {
    options: o,
    yes: true,
    json: true,
    output,
    step: () => {},
    stopProgress: () => {},
    prompt: noPrompter,
  };
  return batchFlasher(await batchFamilyOf(o), { ...base, store });
}

type Cards = { transports: MemoryTransport[] };

async function viaCli(
  store: Store,
  o: DeviceOpts = { model: 'token2-card' },
  script: (stopped: Promise<void>) => Cards = (stopped) => scriptedCards(stopped, READER),
): Promise<FlashBatchReport> {
  const stop = new BatchStop();
  let release: () => void = () => {};
  const cards = script(new Promise<void>((r) => (release = r)));
  const out = sink();
  const source = {
    // The fourth card is on the reader when Ctrl-C comes (it answers only after).
    next: async (i: number) => (i === 3 && setTimeout(() => (stop.request(), release()), 10), cards.transports[i]!),
  };
  const run = runCliBatch(
    store,
    source,
    await cliFlasher(store, o),
    { count: null, stop, onEvent: takeOff(cards.transports) },
    new Output(true, out.stream, sink().stream),
  );
  await expect(run).rejects.toMatchObject({ code: 'batch-partly-failed', exitCode: 3 });
  return JSON.parse(out.text()) as FlashBatchReport;
}

/** A page's socket: requests and the batch's events. */
class Page {
  private readonly answers = new Map<number, (m: { ok: boolean; result?: unknown; error?: unknown }) => void>();
  onBatch: (e: BatchEvent) => void = () => {};
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { id: number; event?: string; batch?: BatchEvent };
      if (m.event === 'batch') this.onBatch(m.batch!);
      else if (m.event === undefined) this.answers.get(m.id)?.(m as never);
    });
  }
  request(id: number, body: Record<string, unknown>) {
    return new Promise<{ ok: boolean; result?: unknown; error?: unknown }>((resolve) => {
      this.answers.set(id, resolve);
      this.ws.send(JSON.stringify({ ...body, id }));
    });
  }
}

async function viaStation(store: Store, input: Record<string, unknown> = { model: 'token2-card' }) {
  let release: () => void = () => {};
  const cards = scriptedCards(new Promise<void>((r) => (release = r)), READER);
  let page: Page | null = null;
  let opened = 0;
  const hub: ReaderHub = {
    list: async () => [{ name: READER, token: true, atr: null }],
    open: async () => {
      const i = opened++;
      // The fourth card is on the reader when the operator presses Stop (it answers only once the server took the stop).
      if (i === 3) void page!.request(99, { op: 'batch-stop' }).then(release);
      return cards.transports[i]!;
    },
    close: async () => undefined,
  };
  const server = await startWebServer({ store, hub, operator: 'parity' });
  try {
    const pair = await fetch(`${server.origin}/api/pair`, {
      method: 'POST',
      headers: { origin: server.origin, 'content-type': 'application/json' },
      body: JSON.stringify({ code: server.pairingToken }),
    });
    const { session } = (await pair.json()) as { session: string };
    const ws = new WebSocket(
      `${server.origin.replace('http', 'ws')}/ws`,
      ['tokensmith', `tokensmith-session.${session}`],
      { headers: { origin: server.origin } },
    );
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    page = new Page(ws);
    page.onBatch = takeOff(cards.transports);
    const r = await page.request(1, { op: 'flash-batch', input });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    ws.close();
    return r.result as FlashBatchReport;
  } finally {
    await server.close();
  }
}

/** The station's side of the service for a family the station does not flash: its token source (the reader hub) and stop, the family's batch flasher. */
async function viaStationService(store: Store, o: DeviceOpts, script: (stopped: Promise<void>) => Cards) {
  const stop = new BatchStop();
  let release: () => void = () => {};
  const cards = script(new Promise<void>((r) => (release = r)));
  let opened = 0;
  const hub: ReaderHub = {
    list: async () => [{ name: READER, token: true, atr: null }],
    open: async () => {
      const i = opened++;
      if (i === 3) setTimeout(() => (stop.request(), release()), 10);
      return cards.transports[i]!;
    },
    close: async () => undefined,
  };
  return runFlashBatch(store, hubSource(hub, READER, stop), await cliFlasher(store, o), {
    count: null,
    sourceName: 'station batch',
    stop,
    onEvent: takeOff(cards.transports),
  });
}

/** What must match: the report without its batch id and per-run results (fresh seeds, clock readings), the batch record, the audit and the tokens. */
async function outcome(store: Store, r: FlashBatchReport, script: Record<string, string> = SCRIPT, maker = 'Token2') {
  const batch = await store.batches.get(r.batch);
  const audit = (await store.audit.list()).filter((a) => a.action !== 'token.add');
  const tokens = await Promise.all(
    Object.entries(script).map(async ([name, s]) => [name, (await store.tokens.findOne(maker, s))?.state ?? null]),
  );
  return {
    counts: r.counts,
    stopped: r.stopped,
    tokens: r.tokens,
    skipped: r.skipped,
    failed: r.failed,
    cancelled: r.cancelled,
    flashed: r.flashed.map((f) => f.serial),
    record: {
      kind: batch?.kind,
      format: batch?.format,
      imported: batch?.imported,
      skipped: batch?.skipped,
      failed: batch?.failed,
      status: batch?.status,
    },
    audit: audit.map((a) => ({
      action: a.action,
      subject: a.subject.replace(/^batch:\d+$/, 'batch'),
      details: { ...a.details, batch: undefined, clockOffsetBefore: undefined, clockOffsetAfter: undefined },
    })),
    stored: Object.fromEntries(tokens),
  };
}

describe('one flash-batch service: the CLI and the station count a scripted run alike', () => {
  it('ok, skip, pulled card, cancel -> the same report, batch record, audit rows and tokens', async () => {
    const cliStore = await freshStore('cli');
    const stationStore = await freshStore('station');
    try {
      const cli = await outcome(cliStore, await viaCli(cliStore));
      const station = await outcome(stationStore, await viaStation(stationStore));
      expect(cli.counts).toEqual({ flashed: 1, skipped: 1, failed: 1, cancelled: 1 });
      expect(cli.tokens.map((t) => [t.outcome, t.serial, t.code])).toEqual([
        ['flashed', SCRIPT.ok, undefined],
        ['skipped', SCRIPT.known, 'seed-present'],
        ['failed', SCRIPT.pulled, 'card-removed'],
        ['cancelled', SCRIPT.cancel, 'cancelled'],
      ]);
      expect(cli.stopped).toBe(true);
      // Neither the pulled card nor the cancelled one is registered; the known one keeps its record.
      expect(cli.stored).toEqual({ ok: 'programmed', known: 'programmed', pulled: null, cancel: null });
      expect(cli.record).toEqual({
        kind: 'flash',
        format: 'token2-nfc',
        imported: 1,
        skipped: 2,
        failed: 1,
        status: 'done',
      });
      expect(cli.audit.map((a) => a.action)).toEqual(['token.flash', 'token.flash-failed', 'flash.batch']);
      expect(station).toEqual(cli);
    } finally {
      await cliStore.close();
      await stationStore.close();
    }
  });

  it('without a model each token is flashed by the family it answers as: the CLI and the station alike', async () => {
    const cliStore = await freshStore('cli-detect');
    const stationStore = await freshStore('station-detect');
    try {
      const cli = await outcome(cliStore, await viaCli(cliStore, {}));
      const station = await outcome(stationStore, await viaStation(stationStore, {}));
      expect(cli.counts).toEqual({ flashed: 1, skipped: 1, failed: 1, cancelled: 1 });
      expect(cli.record).toMatchObject({ format: 'mixed', imported: 1, skipped: 2, failed: 1 });
      expect(station).toEqual(cli);
    } finally {
      await cliStore.close();
      await stationStore.close();
    }
  });

  it("the keys family (YubiKey OTP): the same script counts as the cards do, the CLI and the service over the station's source alike", async () => {
    const runs = [];
    for (const via of [viaCli, viaStationService]) {
      const store = memoryStore();
      try {
        const sims = await otpKeys(store);
        const r = await via(store, otpOptions(READER), (stopped) => scriptedKeys(sims, stopped, READER));
        runs.push({ ...(await outcome(store, r, OTP_SCRIPT, 'Yubico')), slots: otpOutcome(sims) });
      } finally {
        await store.close();
      }
    }
    const [cli, station] = runs;
    expect(cli!.counts).toEqual({ flashed: 1, skipped: 1, failed: 1, cancelled: 1 });
    expect(cli!.tokens.map((t) => [t.outcome, t.serial, t.code])).toEqual([
      ['flashed', OTP_SCRIPT.ok, undefined],
      ['skipped', OTP_SCRIPT.known, 'seed-present'],
      ['failed', OTP_SCRIPT.pulled, 'card-removed'],
      ['cancelled', OTP_SCRIPT.cancel, 'cancelled'],
    ]);
    expect(cli!.stored).toEqual({ ok: 'programmed', known: 'programmed', pulled: null, cancel: null });
    // Only the first key was written by this run (the known one was programmed before it).
    expect(cli!.slots).toEqual([true, true, false, false]);
    // The batch record and its audit row as the Token2 run's: one service counts every family.
    expect(cli!.record).toEqual({
      kind: 'flash',
      format: 'yubikey-otp',
      imported: 1,
      skipped: 2,
      failed: 1,
      status: 'done',
    });
    expect(cli!.audit.at(-1)).toMatchObject({
      action: 'flash.batch',
      details: { format: 'yubikey-otp', flashed: 1, skipped: 1, failed: 1, cancelled: 1, stopped: true },
    });
    expect(station).toEqual(cli);
  });
});

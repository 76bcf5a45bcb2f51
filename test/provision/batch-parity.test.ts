/**
 * The same scripted batch through `device flash --batch` (the CLI's runner)
 * and through the station (a page's socket asking the server for a batch):
 * a card flashed, one the store holds a seed for (skipped), one pulled
 * mid-write (failed, left unregistered), one on the reader when the operator
 * stops (cancelled, nothing written). Both must report the same counts and
 * tokens and leave the same batch record, audit rows and tokens.
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
import { BatchStop, type BatchEvent, type FlashBatchReport } from '../../src/provision/flash-batch.js';
import { parseFlashInput, token2Flasher } from '../../src/provision/families/token2-nfc/flash.js';
import { addToken } from '../../src/provision/tokens.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import type { MemoryTransport } from '../../src/transport/memory.js';
import type { ReaderHub } from '../../src/web/readers.js';
import { startWebServer } from '../../src/web/server.js';
import { KNOWN_SEED, SCRIPT, scriptedCards } from './batch-cards.js';

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

async function viaCli(store: Store): Promise<FlashBatchReport> {
  const stop = new BatchStop();
  let release: () => void = () => {};
  const cards = scriptedCards(new Promise<void>((r) => (release = r)), READER);
  const out = sink();
  const source = {
    // The fourth card is on the reader when Ctrl-C comes (it answers only after).
    next: async (i: number) => (i === 3 && setTimeout(() => (stop.request(), release()), 10), cards.transports[i]!),
  };
  const run = runCliBatch(
    store,
    source,
    token2Flasher(parseFlashInput({})),
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

async function viaStation(store: Store): Promise<FlashBatchReport> {
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
    const r = await page.request(1, { op: 'flash-batch', input: { model: 'token2-card' } });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    ws.close();
    return r.result as FlashBatchReport;
  } finally {
    await server.close();
  }
}

/** What must match: the report without its batch id and per-run results (fresh seeds, clock readings), the batch record, the audit and the tokens. */
async function outcome(store: Store, r: FlashBatchReport) {
  const batch = await store.batches.get(r.batch);
  const audit = (await store.audit.list()).filter((a) => a.action !== 'token.add');
  const tokens = await Promise.all(
    Object.entries(SCRIPT).map(async ([name, s]) => [name, (await store.tokens.findOne('Token2', s))?.state ?? null]),
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
});

/**
 * While the station flashes a token, the reader is busy for the whole
 * station: a second socket of the paired page (or any other page) may not send
 * APDUs, connect or start a flash until it ends. In-process server; the hub's
 * card is simulated in memory, and the flash's first APDU waits for the test so
 * the other socket's requests land while it runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import type { ApduTransport } from '../../src/transport/types.js';
import type { ReaderHub } from '../../src/web/readers.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { toHex } from '../helpers/bytes.js';

/** A gate the flash's transport waits at; the test opens it. */
class Gate {
  armed = false;
  private release: () => void = () => undefined;
  readonly open = new Promise<void>((resolve) => (this.release = resolve));
  /** Resolves when the flash reached the gate. */
  reached: Promise<void>;
  private markReached: () => void = () => undefined;
  constructor() {
    this.reached = new Promise<void>((resolve) => (this.markReached = resolve));
  }
  async pass(): Promise<void> {
    this.markReached();
    await this.open;
  }
  let(): void {
    this.release();
  }
}

/** One reader with a simulated card; transports opened while the gate is armed wait at it before their first APDU. */
function gatedHub(card: Token2Simulator, gate: Gate): ReaderHub {
  return {
    list: async () => [{ name: 'Station Reader 00 00', token: true, atr: toHex(card.atr) }],
    open: async () => {
      const t: ApduTransport = new MemoryTransport(card, { readerName: 'Station Reader 00 00' });
      if (!gate.armed) return t;
      const transmit = t.transmit.bind(t);
      t.transmit = async (apdu, opts) => {
        await gate.pass();
        return transmit(apdu, opts);
      };
      return t;
    },
    close: async () => undefined,
  };
}

type Answer = { ok: boolean; result?: unknown; error?: { code: string; message: string } };

class Page {
  private readonly answers = new Map<number, (m: Answer) => void>();
  private next = 1;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as Answer & { id?: number; event?: string };
      if (m.id !== undefined && m.event === undefined) this.answers.get(m.id)?.(m);
    });
  }
  request(body: Record<string, unknown>): Promise<Answer> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.ws.send(JSON.stringify({ ...body, id }));
    });
  }
}

async function openPage(server: WebServer, session: string): Promise<Page> {
  const ws = new WebSocket(
    `${server.origin.replace('http', 'ws')}/ws`,
    ['tokensmith', `tokensmith-session.${session}`],
    { headers: { origin: server.origin } },
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return new Page(ws);
}

describe('a flash makes the reader busy for the whole station', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-busy-'));
  const env = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
  const card = new Token2Simulator({ model: 'token2-card', serial: '86596220000092' });
  const gate = new Gate();
  let store: Store;
  let server: WebServer;
  let first: Page;
  let second: Page;

  beforeAll(async () => {
    store = await openStore({ db: join(dir, 't.db'), env });
    server = await startWebServer({ store, hub: gatedHub(card, gate), operator: 'alice' });
    const pair = await fetch(`${server.origin}/api/pair`, {
      method: 'POST',
      headers: { origin: server.origin, 'content-type': 'application/json' },
      body: JSON.stringify({ code: server.pairingToken }),
    });
    const { session } = (await pair.json()) as { session: string };
    first = await openPage(server, session);
    second = await openPage(server, session);
  });

  afterAll(async () => {
    first?.ws.close();
    second?.ws.close();
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "a second socket of the paired page gets 'busy' for APDUs, connect and flash while the first one flashes",
    { timeout: 20_000 },
    async () => {
      expect((await second.request({ op: 'connect' })).ok).toBe(true);
      gate.armed = true;
      expect((await first.request({ op: 'connect' })).ok).toBe(true);
      const flash = first.request({ op: 'flash', input: { algorithm: 'sha1', force: true } });
      await gate.reached;
      const meddle = await second.request({ op: 'transmit', apdu: '00a4040000' });
      const reconnect = await second.request({ op: 'connect' });
      // Its answer, or 2 s, before the gate opens: without the station-wide lock this flash would wait at the gate too.
      const secondFlash = second.request({ op: 'flash', input: { algorithm: 'sha1', force: true } });
      await Promise.race([secondFlash, new Promise((resolve) => setTimeout(resolve, 2000))]);
      gate.let();
      const [done, flashToo] = await Promise.all([flash, secondFlash]);
      expect(done.ok, JSON.stringify(done.error)).toBe(true);
      expect([meddle.error?.code, reconnect.error?.code, flashToo.error?.code]).toEqual(['busy', 'busy', 'busy']);
      // Once the flash is over the station is free again.
      expect((await second.request({ op: 'connect' })).ok).toBe(true);
      expect((await second.request({ op: 'transmit', apdu: '00a4040000' })).ok).toBe(true);
    },
  );
});

/**
 * The bridge flashes only the token the station itself opened: a hostile
 * page (a WebSocket client holding a valid session) that starts a "flash" the
 * server did not open a reader for, and answers device commands it was never
 * asked (posing as another token), changes nothing in the store. The station's
 * own flash on its reader still works and its audit row names the operator.
 * In-process server; the reader hub holds a simulated card in memory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { decodeBase32 } from '../../src/core/codecs.js';
import { addToken, findToken, viewToken } from '../../src/provision/tokens.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import type { ReaderHub } from '../../src/web/readers.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { toHex as hex } from '../helpers/bytes.js';

const VICTIM = '86596220000090';
const VICTIM_SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'; // labelled test seed
const ON_READER = '86596220000091';

/** The station's one reader, holding a simulated card. */
function memoryHub(card: Token2Simulator): ReaderHub {
  return {
    list: async () => [{ name: 'Station Reader 00 00', token: true, atr: hex(card.atr) }],
    open: async () => new MemoryTransport(card, { readerName: 'Station Reader 00 00' }),
    close: async () => undefined,
  };
}

/** A page's socket that answers every 'apdu' the server might send as a token of the victim's serial, and pushes unsolicited answers too. */
class HostilePage {
  readonly fake = new Token2Simulator({ model: 'token2-card', serial: VICTIM });
  private readonly answers = new Map<
    number,
    (m: { ok: boolean; result?: unknown; error?: { code: string } }) => void
  >();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { id?: number; event?: string; call?: number; apdu?: string; ok?: boolean };
      if (m.event === 'apdu') this.answerAs(m.call!, m.apdu!);
      else if (m.id !== undefined && m.event === undefined) this.answers.get(m.id)?.(m as never);
    });
  }
  private answerAs(call: number, apdu: string): void {
    this.ws.send(
      JSON.stringify({ op: 'apdu-result', call, response: hex(this.fake.process(Buffer.from(apdu, 'hex'))) }),
    );
  }
  /** Answers for calls the server never made. */
  spray(): void {
    for (let call = 1; call <= 30; call++)
      this.ws.send(JSON.stringify({ op: 'apdu-result', id: 1000 + call, call, response: '9000' }));
  }
  request(
    id: number,
    body: Record<string, unknown>,
  ): Promise<{ ok: boolean; result?: unknown; error?: { code: string } }> {
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.ws.send(JSON.stringify({ ...body, id }));
    });
  }
}

describe('the bridge flashes only what the station opened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-bridge-'));
  const env = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
  const card = new Token2Simulator({ model: 'token2-card', serial: ON_READER });
  let store: Store;
  let server: WebServer;
  let page: HostilePage;

  const storedSecret = async (serial: string) =>
    (await viewToken(store, await findToken(store, serial), { showSecret: true })).secret;

  beforeAll(async () => {
    store = await openStore({ db: join(dir, 't.db'), env });
    await addToken(store, { serial: VICTIM, secret: VICTIM_SEED, kind: 'programmable', manufacturer: 'Token2' });
    server = await startWebServer({ store, hub: memoryHub(card), operator: 'alice' });
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
    page = new HostilePage(ws);
  });

  afterAll(async () => {
    page?.ws.close();
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a "flash" with no reader opened by the station, answered by the page as another token, is refused and writes nothing', async () => {
    page.spray();
    const r = await page.request(1, {
      op: 'flash',
      input: { readerName: 'Page Reader', atr: '3b80800101', seed: 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU', force: true },
    });
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('no-token');
    expect(await storedSecret(VICTIM)).toBe(VICTIM_SEED);
    expect(page.fake.state().seedHex).toBeNull();
    expect((await store.audit.list()).filter((a) => a.action.startsWith('token.flash'))).toEqual([]);
  });

  it("the station's own flash talks to its reader: answers the page pushes meanwhile are ignored, the page may not send APDUs of its own", async () => {
    expect((await page.request(2, { op: 'connect' })).ok).toBe(true);
    const flash = page.request(3, { op: 'flash', input: { algorithm: 'sha1', force: true } });
    page.spray();
    const meddle = await page.request(4, { op: 'transmit', apdu: '00a4040000' });
    expect(meddle.error?.code).toBe('busy');
    const r = await flash;
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect((r.result as { serial: string }).serial).toBe(ON_READER);
    expect(hex(decodeBase32((await storedSecret(ON_READER))!, 'secret'))).toBe(card.state().seedHex);
    expect(await storedSecret(VICTIM)).toBe(VICTIM_SEED);
    const row = (await store.audit.list()).find(
      (a) => a.action === 'token.flash' && a.subject === `token:${ON_READER}`,
    );
    expect(row?.actor).toBe('station:alice');
    expect((await store.batches.list()).map((b) => b.operator)).toEqual(['station:alice']);
  });
});

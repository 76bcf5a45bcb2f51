/**
 * The bridge, server side: one WebSocket per page. The page asks for the
 * host's readers and sends APDUs to the token on one (the page runs the driver
 * itself), or asks for a flash: then the flash service runs here, next to the
 * store, and its APDUs go back to the page, which sends them through its own
 * transport (the bridge again, or WebHID) — one service, whatever the device path.
 */
import type { WebSocket } from 'ws';
import { DeviceError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { CardRemovedError, TransmitTimeoutError } from '../transport/errors.js';
import type { ApduTransport, TransmitOptions } from '../transport/types.js';
import { errorToWire } from '../transport/web/bridge.js';
import { fromHex, toHex, type BridgeMessage, type BridgeRequest, type WireError } from '../transport/web/wire.js';
import type { ReaderHub } from './readers.js';

/** The token the page holds, seen from the server: each APDU is a round trip to the page. */
export class PageRelayTransport implements ApduTransport {
  readonly kind = 'web-relay';
  private present = true;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly readerName: string,
    readonly atr: Uint8Array,
    private readonly call: (apdu: Uint8Array, timeoutMs?: number) => Promise<{ response?: string; error?: WireError }>,
  ) {}

  async transmit(apdu: Uint8Array, opts: TransmitOptions = {}): Promise<Uint8Array> {
    if (!this.present) throw new CardRemovedError(this.readerName);
    const r = await this.call(apdu, opts.timeoutMs);
    if (r.response !== undefined) return fromHex(r.response);
    const e = r.error!;
    if (e.code === 'card-removed') {
      this.present = false;
      for (const l of [...this.listeners]) l();
      throw new CardRemovedError(this.readerName);
    }
    if (e.code === 'transmit-timeout') throw new TransmitTimeoutError(this.readerName, opts.timeoutMs ?? 5000);
    throw new DeviceError(`the page could not reach the token on ${this.readerName}: ${e.message}`, { code: e.code });
  }

  isPresent(): boolean {
    return this.present;
  }

  onRemoved(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

export interface BridgeDeps {
  store: Store;
  hub: ReaderHub;
}

/** Serves one page's socket until it closes. */
export function serveBridgeSocket(ws: WebSocket, deps: BridgeDeps): void {
  let transport: ApduTransport | null = null;
  let nextCall = 1;
  const calls = new Map<number, (r: { response?: string; error?: WireError }) => void>();
  const send = (m: BridgeMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };

  const drop = async () => {
    const t = transport;
    transport = null;
    await t?.close().catch(() => undefined);
  };

  const relayCall = (apdu: Uint8Array, timeoutMs?: number) =>
    new Promise<{ response?: string; error?: WireError }>((resolve) => {
      const call = nextCall++;
      calls.set(call, resolve);
      send({ event: 'apdu', call, apdu: toHex(apdu), timeoutMs });
    });

  async function handle(req: BridgeRequest): Promise<unknown> {
    switch (req.op) {
      case 'readers':
        return deps.hub.list();
      case 'connect': {
        await drop();
        const t = await deps.hub.open({ reader: req.reader, waitSeconds: Math.min(Math.max(Number(req.waitSeconds ?? 0), 0), 120) });
        transport = t;
        t.onRemoved(() => send({ event: 'removed', reader: t.readerName }));
        return { readerName: t.readerName, atr: toHex(t.atr) };
      }
      case 'transmit': {
        if (!transport) throw new DeviceError('no token is connected on this page: choose a reader and read the token first', { code: 'no-token' });
        return toHex(await transport.transmit(fromHex(req.apdu), { timeoutMs: req.timeoutMs }));
      }
      case 'disconnect':
        await drop();
        return null;
      case 'flash': {
        const { readerName, atr, ...form } = req.input;
        const relay = new PageRelayTransport(String(readerName ?? 'page'), fromHex(String(atr ?? '')), relayCall);
        const { flashToken, parseFlashInput } = await import('../provision/flash.js');
        const blank = (v: unknown) => (v === '' || v === undefined || v === null ? undefined : String(v));
        const input = parseFlashInput({
          seed: blank(form.seed),
          algorithm: blank(form.algorithm),
          period: blank(form.period),
          displayTimeout: blank(form.displayTimeout),
          model: blank(form.model),
          resource: blank(form.resource),
          user: blank(form.user),
          force: form.force === true || form.force === 'true',
        });
        return flashToken(deps.store, relay, input, { onStep: (text) => send({ event: 'step', id: req.id, text }) });
      }
      default:
        throw new DeviceError(`unknown bridge request '${(req as { op?: string }).op}'`, { code: 'bad-request' });
    }
  }

  ws.on('message', (raw) => {
    let req: BridgeRequest;
    try {
      req = JSON.parse(String(raw)) as BridgeRequest;
    } catch {
      ws.close(1003, 'not JSON');
      return;
    }
    if (req.op === 'apdu-result') {
      const done = calls.get(req.call);
      calls.delete(req.call);
      done?.({ response: req.response, error: req.error });
      return;
    }
    handle(req).then(
      (result) => send({ id: req.id, ok: true, result: result ?? null }),
      (e) => send({ id: req.id, ok: false, error: errorToWire(e) }),
    );
  });

  ws.on('close', () => {
    for (const done of calls.values()) done({ error: { message: 'the page closed', code: 'card-removed', exitCode: 3 } });
    calls.clear();
    void drop();
  });
}

/**
 * The bridge, server side: one WebSocket per page. The page asks for the
 * host's readers and sends APDUs to the token on one (the page runs the driver
 * itself to read it), or asks for a flash: then the flash service runs here,
 * next to the store, over the reader this server opened itself; or for a
 * batch: the flash-batch service runs here over the tokens the hub opens (bridge-batch.ts). The page never
 * answers a device command: a page that could would choose the serial the
 * store believes and so overwrite the stored seed of any token.
 */
import type { WebSocket } from 'ws';
import { DeviceError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import type { ApduTransport } from '../transport/types.js';
import { errorToWire } from '../transport/web/bridge.js';
import { fromHex, toHex, type BridgeMessage, type BridgeRequest } from '../transport/web/wire.js';
import { BatchStop } from '../provision/flash-batch.js';
import { runStationBatch } from './bridge-batch.js';
import type { ReaderHub } from './readers.js';

/** Whether a flash or a batch runs anywhere on this station: one per server, shared by all its pages' sockets. */
export class StationBusy {
  private running = 0;
  get busy(): boolean {
    return this.running > 0;
  }
  /** Runs `work` with the station busy; refuses at once if it already is. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.check();
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
    }
  }
  check(): void {
    if (this.busy) throw new DeviceError('a flash is running on this station: wait for it to finish', { code: 'busy' });
  }
}

export interface BridgeDeps {
  store: Store;
  hub: ReaderHub;
  /** The station's lock: while any socket flashes, no socket may touch a reader (issue: a second socket sent APDUs). */
  station: StationBusy;
}

/** The flash service on the token this server opened (any family the registry can flash): the page sends the form, never device answers. */
async function flashOnReader(
  store: Store,
  transport: ApduTransport,
  form: Record<string, unknown>,
  onStep: (text: string) => void,
): Promise<unknown> {
  const { flashFormOf, formFlasher } = await import('../provision/flash-families.js');
  return (await formFlasher(flashFormOf(form))).flash(store, transport, { onStep });
}

type RequestOf<Op extends BridgeRequest['op']> = Extract<BridgeRequest, { op: Op }>;

/** One page's socket: the token it connected, and the batch it runs. */
class BridgeSession {
  private transport: ApduTransport | null = null;
  /** The running batch's stop, while one runs. */
  private batchStop: BatchStop | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: BridgeDeps,
  ) {}

  send(m: BridgeMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }

  async handle(req: BridgeRequest): Promise<unknown> {
    switch (req.op) {
      case 'readers':
        return this.deps.hub.list();
      case 'connect':
        return this.connect(req);
      case 'transmit':
        return toHex(await this.connected().transmit(fromHex(req.apdu), { timeoutMs: req.timeoutMs }));
      case 'disconnect':
        this.busy();
        await this.drop();
        return null;
      case 'flash':
        return this.flash(req);
      case 'flash-batch':
        return this.flashBatch(req);
      case 'batch-stop':
        this.batchStop?.request();
        return { stopping: this.batchStop !== null };
      default:
        throw new DeviceError(`unknown bridge request '${(req as { op?: string }).op}'`, { code: 'bad-request' });
    }
  }

  /** The page left: its batch stops (the token being written is finished) and the reader is let go. */
  async close(): Promise<void> {
    this.batchStop?.request();
    await this.drop();
  }

  /** While the server flashes (from any socket), no page may touch a reader: no APDUs between the service's. */
  private busy(): void {
    this.deps.station.check();
  }

  private async drop(): Promise<void> {
    const t = this.transport;
    this.transport = null;
    await t?.close().catch(() => undefined);
  }

  private connected(): ApduTransport {
    if (!this.transport)
      throw new DeviceError('no token is connected on this page: choose a reader and read the token first', {
        code: 'no-token',
      });
    this.busy();
    return this.transport;
  }

  private async connect(req: RequestOf<'connect'>): Promise<{ readerName: string; atr: string }> {
    this.busy();
    await this.drop();
    const t = await this.deps.hub.open({
      reader: req.reader,
      waitSeconds: Math.min(Math.max(Number(req.waitSeconds ?? 0), 0), 120),
    });
    this.transport = t;
    t.onRemoved(() => this.send({ event: 'removed', reader: t.readerName }));
    return { readerName: t.readerName, atr: toHex(t.atr) };
  }

  private async flash(req: RequestOf<'flash'>): Promise<unknown> {
    const t = this.connected();
    return this.deps.station.run(() =>
      flashOnReader(this.deps.store, t, req.input ?? {}, (text) => this.send({ event: 'step', id: req.id, text })),
    );
  }

  private async flashBatch(req: RequestOf<'flash-batch'>): Promise<unknown> {
    return this.deps.station.run(async () => {
      // The batch opens its own tokens: the page's connection is let go so the reader is free.
      await this.drop();
      const stop = (this.batchStop = new BatchStop());
      try {
        return await runStationBatch(this.deps.store, this.deps.hub, req, stop, (batch) =>
          this.send({ event: 'batch', id: req.id, batch }),
        );
      } finally {
        this.batchStop = null;
      }
    });
  }
}

/** Serves one page's socket until it closes. */
export function serveBridgeSocket(ws: WebSocket, deps: BridgeDeps): void {
  const session = new BridgeSession(ws, deps);
  ws.on('message', (raw) => {
    let req: BridgeRequest;
    try {
      req = JSON.parse(String(raw)) as BridgeRequest;
    } catch {
      ws.close(1003, 'not JSON');
      return;
    }
    session.handle(req).then(
      (result) => session.send({ id: req.id, ok: true, result: result ?? null }),
      (e) => session.send({ id: req.id, ok: false, error: errorToWire(e) }),
    );
  });
  ws.on('close', () => void session.close());
}

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

export interface BridgeDeps {
  store: Store;
  hub: ReaderHub;
}

/** The flash service on the token this server opened (any family the registry can flash): the page sends the form, never device answers. */
async function flashOnReader(store: Store, transport: ApduTransport, form: Record<string, unknown>, onStep: (text: string) => void): Promise<unknown> {
  const { flashFormOf, formFlasher } = await import('../provision/flash-families.js');
  return (await formFlasher(flashFormOf(form))).flash(store, transport, { onStep });
}

/** Serves one page's socket until it closes. */
export function serveBridgeSocket(ws: WebSocket, deps: BridgeDeps): void {
  let transport: ApduTransport | null = null;
  /** While the server flashes, the page may not touch the reader (no APDUs of its own between the service's). */
  let flashing = false;
  /** The running batch's stop, while one runs. */
  let batchStop: BatchStop | null = null;
  const busy = () => {
    if (flashing || batchStop) throw new DeviceError('a flash is running on this reader: wait for it to finish', { code: 'busy' });
  };
  const send = (m: BridgeMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };

  const drop = async () => {
    const t = transport;
    transport = null;
    await t?.close().catch(() => undefined);
  };

  function connected(): ApduTransport {
    if (!transport) throw new DeviceError('no token is connected on this page: choose a reader and read the token first', { code: 'no-token' });
    busy();
    return transport;
  }

  async function handle(req: BridgeRequest): Promise<unknown> {
    switch (req.op) {
      case 'readers':
        return deps.hub.list();
      case 'connect': {
        busy();
        await drop();
        const t = await deps.hub.open({ reader: req.reader, waitSeconds: Math.min(Math.max(Number(req.waitSeconds ?? 0), 0), 120) });
        transport = t;
        t.onRemoved(() => send({ event: 'removed', reader: t.readerName }));
        return { readerName: t.readerName, atr: toHex(t.atr) };
      }
      case 'transmit':
        return toHex(await connected().transmit(fromHex(req.apdu), { timeoutMs: req.timeoutMs }));
      case 'disconnect':
        busy();
        await drop();
        return null;
      case 'flash': {
        const t = connected();
        flashing = true;
        try {
          return await flashOnReader(deps.store, t, req.input ?? {}, (text) => send({ event: 'step', id: req.id, text }));
        } finally {
          flashing = false;
        }
      }
      case 'flash-batch': {
        busy();
        // The batch opens its own tokens: the page's connection is let go so the reader is free.
        await drop();
        const stop = (batchStop = new BatchStop());
        try {
          return await runStationBatch(deps.store, deps.hub, req, stop, (batch) => send({ event: 'batch', id: req.id, batch }));
        } finally {
          batchStop = null;
        }
      }
      case 'batch-stop':
        batchStop?.request();
        return { stopping: batchStop !== null };
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
    handle(req).then(
      (result) => send({ id: req.id, ok: true, result: result ?? null }),
      (e) => send({ id: req.id, ok: false, error: errorToWire(e) }),
    );
  });

  ws.on('close', () => {
    // A page that leaves stops its batch (the token being written is finished).
    batchStop?.request();
    void drop();
  });
}

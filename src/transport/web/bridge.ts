/**
 * The bridge transport, browser side: a page cannot reach smart-card readers,
 * so `tokensmith serve` exposes the host's PC/SC readers over a WebSocket and
 * this turns that socket back into an ApduTransport. Drivers run over it
 * unchanged. The same socket starts the server's flash service, which talks to
 * the reader itself: the page sends the form and reads the steps, never the
 * device's answers.
 */
import { DeviceError, TokensmithError } from '../../core/errors.js';
import type { ApduTransport, TransmitOptions } from '../types.js';
import type { BatchEvent, FlashBatchReport } from '../../core/batch-report.js';
import {
  RemoteError,
  fromHex,
  toHex,
  type BridgeMessage,
  type BridgeRequest,
  type ReaderInfo,
  type WireError,
} from './wire.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onStep?: (t: string) => void;
  onBatch?: (e: BatchEvent) => void;
}

type RequestBody = BridgeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface FeatureReport {
  available: boolean;
  /** Plain words for the page when it is not available. */
  why?: string;
}

export function bridgeSupport(g: { WebSocket?: unknown } = globalThis as never): FeatureReport {
  if (typeof g.WebSocket !== 'function') {
    return {
      available: false,
      why: 'This browser has no WebSocket, so the page cannot reach the readers of this computer through tokensmith serve. Use the CLI: tokensmith device flash.',
    };
  }
  return { available: true };
}

/** A failure reported by the other side, as the TokensmithError a driver expects. */
export function errorFromWire(e: WireError): TokensmithError {
  if (e.exitCode === 3) return new DeviceError(e.message, { code: e.code });
  return new TokensmithError(e.message, { code: e.code, exitCode: e.exitCode as never });
}

export function errorToWire(e: unknown): WireError {
  if (e instanceof TokensmithError) return { message: e.message, code: e.code, exitCode: e.exitCode };
  if (e instanceof RemoteError) return { message: e.message, code: e.code, exitCode: e.exitCode };
  return { message: (e as Error)?.message ?? String(e), code: 'failure', exitCode: 1 };
}

export class BridgeClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly removedListeners = new Set<(reader: string) => void>();
  private flashing = false;
  private closedError: Error | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => void this.onMessage(String(ev.data)));
    ws.addEventListener('close', () => {
      this.closedError = new DeviceError(
        'the connection to tokensmith serve closed; is it still running? Reload the page after starting it again.',
        { code: 'bridge-closed' },
      );
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
    });
  }

  /** Opens the socket; `url` is ws(s)://host:port/ws, `session` the secret the page got at pairing (sent as a subprotocol: a socket takes no headers). */
  static connect(url: string, session: string): Promise<BridgeClient> {
    const support = bridgeSupport();
    if (!support.available) return Promise.reject(new DeviceError(support.why!, { code: 'no-websocket' }));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['tokensmith', `tokensmith-session.${session}`]);
      ws.addEventListener('open', () => resolve(new BridgeClient(ws)), { once: true });
      ws.addEventListener(
        'error',
        () =>
          reject(
            new DeviceError(
              `could not connect to ${url}: is tokensmith serve running, and was the page opened with its pairing link?`,
              { code: 'bridge-refused' },
            ),
          ),
        { once: true },
      );
    });
  }

  private async onMessage(text: string): Promise<void> {
    const msg = JSON.parse(text) as BridgeMessage;
    if ('event' in msg) {
      if (msg.event === 'removed') for (const l of [...this.removedListeners]) l(msg.reader);
      else if (msg.event === 'step') this.pending.get(msg.id)?.onStep?.(msg.text);
      else if (msg.event === 'batch') this.pending.get(msg.id)?.onBatch?.(msg.batch);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(errorFromWire(msg.error));
  }

  private send(body: RequestBody, id = this.nextId++): number {
    this.ws.send(JSON.stringify({ ...body, id }));
    return id;
  }

  request<T>(body: RequestBody, onStep?: (t: string) => void, onBatch?: (e: BatchEvent) => void): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onStep, onBatch });
      this.send(body, id);
    });
  }

  readers(): Promise<ReaderInfo[]> {
    return this.request<ReaderInfo[]>({ op: 'readers' });
  }

  /** Connects to the token on a reader of the host (a part of its name, as --reader), waiting up to waitSeconds. */
  async openTransport(reader?: string, waitSeconds = 0): Promise<BridgeTransport> {
    const r = await this.request<{ readerName: string; atr: string }>({ op: 'connect', reader, waitSeconds });
    return new BridgeTransport(this, r.readerName, fromHex(r.atr));
  }

  /**
   * Runs the server's flash service (the same as `tokensmith device flash`)
   * on the token this page connected with openTransport; the server talks to
   * the reader and writes the store and the audit row. Returns the service's result.
   */
  async flash<T = unknown>(
    input: Record<string, string | boolean | undefined>,
    onStep?: (t: string) => void,
  ): Promise<T> {
    if (this.flashing) throw new DeviceError('a flash is already running on this page', { code: 'busy' });
    this.flashing = true;
    try {
      return await this.request<T>({ op: 'flash', input }, onStep);
    } finally {
      this.flashing = false;
    }
  }

  /**
   * Runs the server's flash-batch service (the same as `device flash --batch`)
   * on a reader of the host until stopBatch(): the server opens each token
   * itself; the page gets the progress and, at the end, the batch report.
   */
  async flashBatch(
    input: Record<string, string | boolean | undefined>,
    reader: string | undefined,
    onEvent: (e: BatchEvent) => void,
  ): Promise<FlashBatchReport> {
    if (this.flashing) throw new DeviceError('a flash is already running on this page', { code: 'busy' });
    this.flashing = true;
    try {
      return await this.request<FlashBatchReport>({ op: 'flash-batch', input, reader }, undefined, onEvent);
    } finally {
      this.flashing = false;
    }
  }

  /** Stops the running batch: a token not yet written is cancelled, one being written is finished. */
  stopBatch(): Promise<{ stopping: boolean }> {
    return this.request({ op: 'batch-stop' });
  }

  onRemoved(listener: (reader: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  close(): void {
    this.ws.close();
  }
}

export class BridgeTransport implements ApduTransport {
  readonly kind = 'bridge';
  private present = true;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly client: BridgeClient,
    readonly readerName: string,
    readonly atr: Uint8Array,
  ) {
    this.unsubscribe = client.onRemoved((reader) => {
      if (reader !== readerName || !this.present) return;
      this.present = false;
      for (const l of [...this.listeners]) l();
    });
  }

  async transmit(apdu: Uint8Array, opts: TransmitOptions = {}): Promise<Uint8Array> {
    try {
      return fromHex(
        await this.client.request<string>({ op: 'transmit', apdu: toHex(apdu), timeoutMs: opts.timeoutMs }),
      );
    } catch (e) {
      if ((e as TokensmithError).code === 'card-removed') this.present = false;
      throw e;
    }
  }

  isPresent(): boolean {
    return this.present;
  }

  onRemoved(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.listeners.clear();
    await this.client.request({ op: 'disconnect' }).catch(() => undefined);
  }
}

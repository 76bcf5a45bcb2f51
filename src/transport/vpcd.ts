/**
 * The card side of vsmartcard's vpcd: connects to the vpcd driver inside
 * pcscd over TCP (default 127.0.0.1:35963, the "Virtual PCD 00 00" reader)
 * and answers as a card, so that pcscd, libpcsclite and nfc-pcsc see a token.
 * Frames both ways: 2-byte big-endian length, then the payload. A 1-byte
 * payload is a control: 00 power off, 01 power on, 02 reset, 04 get ATR
 * (the only one answered); anything else is a command APDU.
 * Removing the card = closing the connection.
 */
import { Socket, connect } from 'node:net';

export interface VirtualCard {
  readonly atr: Uint8Array;
  /** The answer; null takes the card off the reader without answering (a hand pulling it away). */
  process(apdu: Uint8Array): Uint8Array | null;
  /** Power off / reset: a new session (authentication does not survive). */
  reset?(): void;
}

export const VPCD_DEFAULT_PORT = 35963;

export function parseVpcdAddress(input: string | true | undefined): { host: string; port: number } {
  if (input === undefined || input === true || input === '') return { host: '127.0.0.1', port: VPCD_DEFAULT_PORT };
  const s = String(input);
  const i = s.lastIndexOf(':');
  let host = '127.0.0.1';
  let port = VPCD_DEFAULT_PORT;
  if (i >= 0) {
    host = s.slice(0, i) || host;
    port = Number(s.slice(i + 1));
  } else if (/^\d+$/.test(s)) port = Number(s);
  else host = s;
  if (!Number.isInteger(port) || port <= 0 || port >= 65536) throw new RangeError(`vpcd port ${port} is out of range`);
  return { host, port };
}

export class VpcdClient {
  private socket: Socket | null = null;
  private buf = Buffer.alloc(0);
  private closedByUs = false;

  constructor(
    private readonly card: VirtualCard,
    private readonly opts: { host?: string; port?: number; log?: (line: string) => void; onClose?: () => void } = {},
  ) {}

  get address(): string {
    return `${this.opts.host ?? '127.0.0.1'}:${this.opts.port ?? VPCD_DEFAULT_PORT}`;
  }

  /** Connects once; rejects when vpcd is not listening (pcscd down, or vpcd not installed). */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port ?? VPCD_DEFAULT_PORT });
      s.setNoDelay(true);
      const fail = (e: Error) => reject(e);
      s.once('error', fail);
      s.once('connect', () => {
        s.off('error', fail);
        s.on('error', (e) => this.opts.log?.(`vpcd connection error: ${e.message}`));
        this.socket = s;
        // Only a connection that was up can be lost (a refused attempt closes too).
        s.on('close', () => {
          this.socket = null;
          if (!this.closedByUs) this.opts.onClose?.();
        });
        resolve();
      });
      s.on('data', (d) => this.onData(d));
    });
  }

  /** Connects, retrying while vpcd is not there yet, up to `timeoutMs` (0: forever). */
  async connectWithRetry(timeoutMs = 0, onWaiting?: () => void): Promise<void> {
    const end = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    let told = false;
    for (;;) {
      try {
        return await this.connect();
      } catch (e) {
        if (Date.now() >= end) throw e;
        if (!told) onWaiting?.();
        told = true;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  private send(payload: Uint8Array): void {
    const head = Buffer.alloc(2);
    head.writeUInt16BE(payload.length);
    this.socket?.write(Buffer.concat([head, payload]));
  }

  private onData(d: Buffer): void {
    // vpcd writes length and payload separately, and TCP may split or merge frames.
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 2) {
      const n = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + n) return;
      const msg = Uint8Array.from(this.buf.subarray(2, 2 + n));
      this.buf = this.buf.subarray(2 + n);
      if (n === 1) {
        const c = msg[0];
        if (c === 0x04) this.send(this.card.atr);
        else if (c === 0x00 || c === 0x02) this.card.reset?.();
        continue;
      }
      let resp: Uint8Array | null;
      try {
        resp = this.card.process(msg);
      } catch (e) {
        this.opts.log?.(`simulator error: ${(e as Error).message}`);
        resp = Uint8Array.from([0x6f, 0x00]);
      }
      if (resp === null) {
        this.socket?.destroy();
        return;
      }
      this.send(resp);
    }
  }

  /** Takes the card away: vpcd reports it removed. */
  close(): Promise<void> {
    this.closedByUs = true;
    const s = this.socket;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('close', () => resolve());
      s.destroy();
    });
  }
}

/**
 * The bridge's messages: JSON text frames over one WebSocket between the page
 * and `tokensmith serve`. Shared by the server (Node) and the page (browser),
 * so it imports nothing platform-specific. APDUs travel as hex.
 */
import type { BatchEvent } from '../../core/batch-report.js';

/** Page -> server requests; every one is answered once with the same id. */
export type BridgeRequest =
  | { id: number; op: 'readers' }
  | { id: number; op: 'connect'; reader?: string; waitSeconds?: number }
  | { id: number; op: 'transmit'; apdu: string; timeoutMs?: number }
  | { id: number; op: 'disconnect' }
  /** Runs the flash service on the server, on the token this page connected (the server talks to the reader itself). */
  | { id: number; op: 'flash'; input: Record<string, string | boolean | undefined> }
  /** Runs the flash-batch service on the server over the chosen reader until stopped; answered with the batch report. */
  | { id: number; op: 'flash-batch'; input: Record<string, string | boolean | undefined>; reader?: string }
  /** Stops the running batch: a token identified but not yet written is cancelled, one being written is finished. */
  | { id: number; op: 'batch-stop' };

export interface WireError {
  message: string;
  /** TokensmithError code ('card-removed', 'no-token', ...). */
  code: string;
  /** The CLI exit code this failure has (3 device, 4 data, 5 policy ...). */
  exitCode: number;
}

export interface ReaderInfo {
  name: string;
  token: boolean;
  atr: string | null;
}

/** Server -> page frames. */
export type BridgeMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: WireError }
  | { event: 'step'; id: number; text: string }
  /** Progress of the batch started by request `id`. */
  | { event: 'batch'; id: number; batch: BatchEvent }
  | { event: 'removed'; reader: string };

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`not hex bytes: '${hex.slice(0, 40)}'`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** An Error from the other side, keeping its code and exit code. */
export class RemoteError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(e: WireError) {
    super(e.message);
    this.name = 'RemoteError';
    this.code = e.code;
    this.exitCode = e.exitCode;
  }
}

/**
 * What a driver sees of the platform: a token on a reader that takes APDUs.
 * Nothing else (no PC/SC, no nfc-pcsc, no sockets) reaches drivers/, so the
 * same driver runs over PC/SC, in memory, from a cassette, or in a browser.
 */

export interface TransmitOptions {
  /** Give up after this long (default: the transport's). */
  timeoutMs?: number;
}

export interface ApduTransport {
  /** The reader's name as the platform reports it ("ACS ACR122U 00 00", "Virtual PCD 00 00"). */
  readonly readerName: string;
  /** The token's answer to reset. */
  readonly atr: Uint8Array;
  /** What this transport is, for cassette headers: 'pcsc', 'memory', 'replay'. */
  readonly kind: string;
  /** Sends one command APDU, returns the answer (data || SW1 SW2). Throws CardRemovedError when the token left. */
  transmit(apdu: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array>;
  /** Whether the token is still on the reader. */
  isPresent(): boolean;
  /** Called once when the token leaves the reader; returns an unsubscribe function. */
  onRemoved(listener: () => void): () => void;
  close(): Promise<void>;
}

export const DEFAULT_TRANSMIT_TIMEOUT_MS = 5000;

/** Decodes a frame into words ("writeConfig: sha256, 60 s ..."); given by the caller, who knows the device. */
export type FrameDescriber = (bytes: Uint8Array, dir: 'command' | 'response', command?: Uint8Array) => string;

/** What a cassette says was run, so that `cassette verify` can run it again through the real driver. */
export interface CassetteOperation {
  name: string;
  params: Record<string, unknown>;
  /** How it ended: `{ ok: true }` or the error code (`auth-failed`, `card-removed` ...). */
  outcome: { ok: true } | { ok: false; error: string };
}

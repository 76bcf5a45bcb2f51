/**
 * The cassette's shape: a header (where the recording came from, how to run
 * it again) and the frames in order. Its own file, with no imports but the
 * transport types, so the text form (cassette-text.ts) and the reader
 * (cassette.ts) share it without importing each other.
 */
import type { CassetteOperation } from './types.js';

// Declared with the transport types (no Node imports there), so drivers can name it in the browser build.
export type { CassetteOperation } from './types.js';

export const CASSETTE_FORMAT = 'tokensmith-cassette';

export type CassetteSource = 'hardware' | 'simulator';

export interface CassetteHeader {
  format: typeof CASSETTE_FORMAT;
  version: number;
  /** The transport recorded: 'pcsc', 'memory' ... */
  transport: string;
  reader: string;
  atr: Uint8Array;
  /** The token model (one of `device models`), when known. */
  model: string | null;
  source: CassetteSource;
  recordedAt: string;
  toolVersion: string;
  /** UTC seconds the host used as "now" (it goes into config writes; not a secret). */
  hostClock: number | null;
  /** The seed the host wrote, only when it is a labelled test seed. */
  seed: Uint8Array | null;
  /** Which test seed it is ("RFC 6238 SHA-256 test seed"). */
  seedLabel: string | null;
  /** Length of the seed the host wrote (redacted recordings replay with a stand-in of this length). */
  seedLength: number | null;
  operation: CassetteOperation | null;
  note?: string;
}

export type FrameDirection = 'command' | 'response' | 'event';

export interface CassetteFrame {
  seq: number;
  /** Milliseconds since the recording started. */
  ms: number;
  dir: FrameDirection;
  /** The bytes; for a redacted command only its first 5 bytes (header and Lc). */
  bytes: Uint8Array;
  /** A seed-bearing command stored without its body: replayed by shape. */
  redacted?: boolean;
  /** Full length of a redacted command. */
  length?: number;
  /** For event frames: what happened instead of an answer. */
  event?: 'card-removed' | 'timeout' | 'error';
  message?: string;
}

export interface Cassette {
  header: CassetteHeader;
  frames: CassetteFrame[];
}

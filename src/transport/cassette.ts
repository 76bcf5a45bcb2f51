/**
 * Cassettes: recorded APDU sessions, written as reviewable JSON text
 * (version 2, cassette-text.ts); version 1 files (CBOR) are still read
 * (docs/cassettes.md). A
 * header says where the recording came from and how to run it again; frames
 * are the bytes in order. Seed-bearing frames of real seeds are stored
 * redacted (header bytes and length only) and replayed by shape.
 */
import { readFileSync } from 'node:fs';
import { writeFileSafelySync } from '../core/safe-file.js';
import { decode } from 'cbor-x';
import { DataError } from '../core/errors.js';
import { CASSETTE_TEXT_VERSION, cassetteFromText, cassetteToText } from './cassette-text.js';
import type { FrameDescriber } from './types.js';

export const CASSETTE_FORMAT = 'tokensmith-cassette';
/** The version written (the JSON text form); version 1 (CBOR) is read too. */
export const CASSETTE_VERSION = CASSETTE_TEXT_VERSION;
const CBOR_VERSION = 1;

export type CassetteSource = 'hardware' | 'simulator';

// Declared with the transport types (no Node imports there), so drivers can name it in the browser build.
export type { CassetteOperation } from './types.js';
import type { CassetteOperation } from './types.js';

export interface CassetteHeader {
  format: typeof CASSETTE_FORMAT;
  version: number;
  /** The transport recorded: 'pcsc', 'memory' ... */
  transport: string;
  reader: string;
  atr: Uint8Array;
  /** The token model (token2-card ...), when known. */
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

/** The cassette as UTF-8 JSON text; the family's describer, when given, adds a decoded comment to each frame. */
export function encodeCassette(c: Cassette, describe?: FrameDescriber): Uint8Array {
  return Buffer.from(cassetteToText(c, describe), 'utf8');
}

function parseBytes(bytes: Uint8Array, where: string): unknown {
  // Text cassettes start with '{' (after any white space); CBOR ones with a map byte.
  const first = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart()[0];
  if (first === '{') return cassetteFromText(Buffer.from(bytes).toString('utf8'), where);
  try {
    return decode(bytes);
  } catch (e) {
    throw new DataError(`${where} is not a tokensmith cassette (neither JSON text nor CBOR: ${(e as Error).message})`, {
      code: 'bad-cassette',
      where,
    });
  }
}

export function decodeCassette(bytes: Uint8Array, where = 'cassette'): Cassette {
  const raw = parseBytes(bytes, where);
  const c = raw as Partial<Cassette> | null;
  const h = c?.header as Partial<CassetteHeader> | undefined;
  if (!h || h.format !== CASSETTE_FORMAT || !Array.isArray(c?.frames)) {
    throw new DataError(`${where} is not a tokensmith cassette (no '${CASSETTE_FORMAT}' header)`, {
      code: 'bad-cassette',
      where,
    });
  }
  if (h.version !== CASSETTE_VERSION && h.version !== CBOR_VERSION) {
    throw new DataError(
      `${where} is cassette format version ${String(h.version)}; this tokensmith reads versions ${CBOR_VERSION} (CBOR) and ${CASSETTE_VERSION} (JSON text)`,
      {
        code: 'bad-cassette',
        where,
      },
    );
  }
  for (const [i, f] of c.frames.entries()) {
    if (!f || !(f.bytes instanceof Uint8Array) || !['command', 'response', 'event'].includes(f.dir)) {
      throw new DataError(`${where}: frame ${i + 1} is malformed`, {
        code: 'bad-cassette',
        where: `${where}#${i + 1}`,
      });
    }
  }
  return c as Cassette;
}

export function readCassette(path: string): Cassette {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read cassette ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      code: 'not-found',
      where: path,
    });
  }
  return decodeCassette(bytes, path);
}

export function writeCassette(path: string, c: Cassette, describe?: FrameDescriber): void {
  // Seeds are redacted from cassettes, so they may be world-readable; still never written through a link.
  writeFileSafelySync(
    path,
    encodeCassette({ header: { ...c.header, version: CASSETTE_VERSION }, frames: c.frames }, describe),
    0o644,
  );
}

export function hexSpaced(b: Uint8Array): string {
  return Buffer.from(b)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ');
}

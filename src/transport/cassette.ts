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

export { CASSETTE_FORMAT } from './cassette-types.js';
export type {
  Cassette,
  CassetteFrame,
  CassetteHeader,
  CassetteOperation,
  CassetteSource,
  FrameDirection,
} from './cassette-types.js';
import { CASSETTE_FORMAT, type Cassette, type CassetteHeader } from './cassette-types.js';

/** The version written (the JSON text form); version 1 (CBOR) is read too. */
export const CASSETTE_VERSION = CASSETTE_TEXT_VERSION;
const CBOR_VERSION = 1;

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

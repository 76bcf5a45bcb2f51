/**
 * The text form of a cassette (version 2): JSON with every byte string as
 * spaced hex and every frame followed by what it means, so that a review
 * sees which byte changed and what that byte says. The decoded `meaning` is
 * a comment: it is written for people and ignored when read back.
 */
import { DataError } from '../core/errors.js';
import type { Cassette, CassetteFrame, CassetteHeader } from './cassette-types.js';
import type { FrameDescriber } from './types.js';

export const CASSETTE_TEXT_VERSION = 2;

const toHex = (b: Uint8Array) =>
  Buffer.from(b)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ');

function fromHex(text: unknown, where: string): Uint8Array {
  if (typeof text !== 'string' || !/^([0-9a-fA-F]{2}( |$))*$/.test(text.trim()))
    throw new DataError(`${where}: '${String(text).slice(0, 40)}' is not hex bytes ("80 41 00 00")`, {
      code: 'bad-cassette',
      where,
    });
  return Uint8Array.from(Buffer.from(text.replace(/ /g, ''), 'hex'));
}

function meaningOf(
  f: CassetteFrame,
  describe: FrameDescriber | undefined,
  lastCommand: Uint8Array | undefined,
): string | undefined {
  if (!describe || f.dir === 'event') return undefined;
  try {
    // A redacted frame that kept no bytes (a HID report) has nothing to describe but its length.
    if (f.redacted && f.bytes.length === 0) return `redacted: ${f.length} bytes`;
    return f.redacted
      ? `${describe(f.bytes, 'command')}; redacted: ${f.length} bytes`
      : describe(f.bytes, f.dir, lastCommand);
  } catch {
    return undefined;
  }
}

/** The cassette as JSON text; `describe` (the family's describer) adds the comments. */
export function cassetteToText(c: Cassette, describe?: FrameDescriber): string {
  const h = c.header;
  const header = { ...h, version: CASSETTE_TEXT_VERSION, atr: toHex(h.atr), seed: h.seed ? toHex(h.seed) : null };
  let lastCommand: Uint8Array | undefined;
  const frames = c.frames.map((f) => {
    if (f.dir === 'command') lastCommand = f.bytes;
    const { bytes, ...rest } = f;
    const meaning = meaningOf(f, describe, lastCommand);
    return { ...rest, hex: toHex(bytes), ...(meaning ? { meaning } : {}) };
  });
  // One frame a line: a changed byte is a one-line diff.
  const lines = frames.map((f) => '    ' + JSON.stringify(f));
  return `{\n  "header": ${JSON.stringify(header, null, 2).replace(/\n/g, '\n  ')},\n  "frames": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

/** Reads the text form back (hex to bytes, comments dropped); the shape is checked by the caller. */
export function cassetteFromText(text: string, where: string): Cassette {
  let raw: { header?: Record<string, unknown>; frames?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (e) {
    throw new DataError(`${where} is not a tokensmith cassette (neither CBOR nor JSON: ${(e as Error).message})`, {
      code: 'bad-cassette',
      where,
    });
  }
  const h = raw?.header;
  if (!h || !Array.isArray(raw.frames)) return raw as unknown as Cassette;
  const header = {
    ...h,
    atr: fromHex(h.atr, `${where}: header atr`),
    seed: h.seed ? fromHex(h.seed, `${where}: header seed`) : null,
  } as unknown as CassetteHeader;
  const frames = (raw.frames as Record<string, unknown>[]).map((f, i) => {
    const { hex, meaning: _comment, ...rest } = f ?? {};
    return { ...rest, bytes: fromHex(hex, `${where}#${i + 1}`) } as unknown as CassetteFrame;
  });
  return { header, frames };
}

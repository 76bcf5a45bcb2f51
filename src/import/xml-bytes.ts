/**
 * The byte-level pieces of the streaming XML reader (xml-scan.ts): the
 * constants and limits, name and white-space bytes, names split at their
 * prefix, and a fast LF count for line numbers.
 */
export const EMPTY = Buffer.alloc(0);
export const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);|&/g;
export const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** A construct longer than this without its end is not a seed file. */
export const MAX_PENDING = 4 * 1024 * 1024;
/** Seed files use a handful of attributes per element; past this a tag is an attack (the duplicate check is quadratic in it). */
export const MAX_ATTRIBUTES = 256;
/** PSKC nests about ten deep; past this every open element costs memory for nothing (60 MB of <a> once took 3.8 GB). */
export const MAX_DEPTH = 64;

export const LT = 0x3c;
export const GT = 0x3e;
export const SLASH = 0x2f;
export const AMP = 0x26;

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Name bytes: anything but XML white space and / > = < " ' ! ? */
export function isNameByte(c: number): boolean {
  if (c > 0x3f) return true;
  return !(
    c === 0x20 ||
    c === 0x0a ||
    c === 0x09 ||
    c === 0x0d ||
    c === 0x2f ||
    c === 0x3e ||
    c === 0x3d ||
    c === 0x3c ||
    c === 0x22 ||
    c === 0x27 ||
    c === 0x21 ||
    c === 0x3f
  );
}

/** Buffer's own string makers, without the argument checks of toString (the offsets here are always in range). */
export type Bytes = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
};

/** A name as written (raw: its bytes as latin1, for comparing with a closing tag) and split at its prefix. */
export interface Name {
  raw: string;
  name: string;
  lower: string;
  prefix: string;
  /** As an attribute key: the local name, but namespace declarations (xmlns, xmlns:p) whole. */
  attrKey: string;
}

export function splitName(raw: string, decoded: string): Name {
  const colon = decoded.indexOf(':');
  const name = colon < 0 ? decoded : decoded.slice(colon + 1);
  return {
    raw,
    name,
    lower: name.toLowerCase(),
    prefix: colon < 0 ? '' : decoded.slice(0, colon),
    attrKey: colon < 0 || decoded.startsWith('xmlns') ? decoded : name,
  };
}

/**
 * The number of LF bytes in b[from, to). Four bytes at a time where the
 * buffer is word-aligned: a byte of w ^ 0x0a0a0a0a is zero exactly where w
 * holds an LF, and the zero bytes of a word are counted without a branch.
 */
export function countNewlines(b: Uint8Array, words: Uint32Array | null, from: number, to: number): number {
  let n = 0;
  let i = from;
  if (words !== null) {
    while (i < to && (i & 3) !== 0) if (b[i++] === 0x0a) n++;
    const end = Math.min(to >>> 2, words.length);
    for (let w = i >>> 2; w < end; w++) {
      const x = words[w]! ^ 0x0a0a0a0a;
      // High bit of each byte: set where the byte is not zero.
      const t = (((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
      n += Math.imul((t ^ 0x80808080) >>> 7, 0x01010101) >>> 24;
    }
    if (end << 2 > i) i = end << 2;
  }
  for (; i < to; i++) if (b[i] === 0x0a) n++;
  return n;
}

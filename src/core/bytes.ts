/**
 * Byte helpers with no Node dependency (no Buffer), for code that also runs
 * in the browser: the drivers, their describers, the ISO 7816 layer.
 */

/** Upper-case hex, no spaces ("80C0"). */
export function toHex(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! & 0xff).toString(16).padStart(2, '0');
  return s.toUpperCase();
}

/** Hex (spaces allowed) to bytes; throws a RangeError for anything else, so callers wrap it in their own error. */
export function fromHex(text: string): Uint8Array {
  const s = text.replace(/\s+/g, '');
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new RangeError(`'${text.slice(0, 40)}' is not hex bytes`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function utf8Encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function utf8Decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

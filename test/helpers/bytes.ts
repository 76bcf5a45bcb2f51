/** Bytes for tests: hex in and out, and byte tampering for tests that prove a check catches a changed frame, MAC or sealed seed. */

/** XORs `mask` into `bytes[index]` in place; an index past the end is a broken test, so it throws. */
export function flipByte(bytes: Uint8Array, index: number, mask: number): void {
  const old = bytes[index];
  if (old === undefined)
    throw new RangeError(`flipByte: index ${index} is past the end of a ${bytes.length}-byte buffer`);
  bytes[index] = old ^ mask;
}

/** Lower-case hex of bytes (an undefined value is a broken test, so it throws). */
export function toHex(bytes: Uint8Array | undefined): string {
  if (!bytes) throw new TypeError('toHex: no bytes');
  return Buffer.from(bytes).toString('hex');
}

/** Upper-case hex, as the protocol documents write APDUs. */
export function toHexUpper(bytes: Uint8Array): string {
  return toHex(bytes).toUpperCase();
}

/** Bytes of a hex string; spaces between bytes are allowed, as in the protocol documents. */
export function fromHex(text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(clean)) throw new TypeError(`fromHex: not hex: ${text}`);
  return Buffer.from(clean, 'hex');
}

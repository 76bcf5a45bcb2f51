/** Byte tampering for tests that prove a check catches a changed frame, MAC or sealed seed. */

/** XORs `mask` into `bytes[index]` in place; an index past the end is a broken test, so it throws. */
export function flipByte(bytes: Uint8Array, index: number, mask: number): void {
  const old = bytes[index];
  if (old === undefined)
    throw new RangeError(`flipByte: index ${index} is past the end of a ${bytes.length}-byte buffer`);
  bytes[index] = old ^ mask;
}

/**
 * Which driver family a token on a reader belongs to: --model first, then the
 * reader name (a Molto2 is its own CCID reader, "Molto2" in its name), then
 * the ATRs of tokensmith's own simulators; Token2 NFC otherwise. Real
 * Protectimus tokens show the reader's generic contactless ATR, so they need
 * --model protectimus-slim|protectimus-flex. A YubiKey is told by its reader
 * name or ATR, so that a verb without --model can say which model to name.
 */
import { MOLTO2_SIMULATOR_ATR } from '../../drivers/token2-molto2/simulator.js';
import { PROTECTIMUS_FLEX_SIMULATOR_ATR, PROTECTIMUS_SIMULATOR_ATR } from '../../drivers/protectimus/simulator.js';
import { isProtectimusModel, type ProtectimusModel } from '../../drivers/protectimus/protocol.js';

export type Family = { family: 'token2-nfc' } | { family: 'molto2' } | { family: 'protectimus'; model: ProtectimusModel } | { family: 'yubikey' };

/** A YubiKey's ATR carries "YubiKey" in its historical bytes (USB CCID and NFC alike). */
const YUBIKEY_IN_ATR = Buffer.from('YubiKey', 'ascii');

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export function familyOf(model: string | undefined, readerName: string, atr: Uint8Array): Family {
  if (model === 'token2-molto2') return { family: 'molto2' };
  if (model && isProtectimusModel(model)) return { family: 'protectimus', model };
  if (model) return { family: 'token2-nfc' };
  if (/molto2/i.test(readerName) || same(atr, MOLTO2_SIMULATOR_ATR)) return { family: 'molto2' };
  if (/yubikey|yubico/i.test(readerName) || Buffer.from(atr).includes(YUBIKEY_IN_ATR)) return { family: 'yubikey' };
  if (same(atr, PROTECTIMUS_SIMULATOR_ATR)) return { family: 'protectimus', model: 'protectimus-slim' };
  if (same(atr, PROTECTIMUS_FLEX_SIMULATOR_ATR)) return { family: 'protectimus', model: 'protectimus-flex' };
  return { family: 'token2-nfc' };
}


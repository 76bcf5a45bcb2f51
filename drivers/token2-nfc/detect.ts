/**
 * Is the device a single-profile Token2 NFC token? Its get info (`80 41 00 00
 * 02 02 11`, no authentication) answers a serial and a clock; the serial's
 * prefix tells the model. A serial with an unknown prefix is still this
 * family (answered 'token2-nfc': the driver then asks for --model).
 */
import { exchange, SW_OK } from '../../src/transport/iso7816.js';
import type { ApduTransport } from '../../src/transport/types.js';
import { buildGetInfo, parseInfo, productForSerial } from './protocol.js';

export async function detectToken2Nfc(transport: ApduTransport): Promise<string | null> {
  const r = await exchange(transport, buildGetInfo(), { getResponseClass: 'command' });
  if (r.sw !== SW_OK) return null;
  try {
    const info = parseInfo(r.data);
    return productForSerial(info.serial)?.model ?? 'token2-nfc';
  } catch {
    return null;
  }
}

/**
 * Is the device a Molto2? Reads the public block of profile 0 (`80 41 00 00
 * 01 70`, no authentication): only a Molto2 answers it with a profile block
 * (`95 1F 70 1D ..`, 9000). A single-profile Token2 token answers the same INS
 * with its info, so this family is tried before token2-nfc.
 */
import { exchange, SW_OK } from '../../src/transport/iso7816.js';
import type { ApduTransport } from '../../src/transport/types.js';
import { buildReadProfile, parseProfileBlock } from './protocol.js';

export async function detectMolto2(transport: ApduTransport): Promise<string | null> {
  const r = await exchange(transport, buildReadProfile(0), { getResponseClass: 'command' });
  if (r.sw !== SW_OK) return null;
  try {
    parseProfileBlock(r.data);
    return 'token2-molto2';
  } catch {
    return null;
  }
}

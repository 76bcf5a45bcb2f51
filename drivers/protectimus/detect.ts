/**
 * Is the device a Protectimus Slim NFC or Flex? Its info frame (`86 02 10
 * 10`, no authentication) answers `AA 0B 10 ..` with a valid checksum and an
 * info payload; an ISO card refuses class 86 (6E00), which is why this
 * family is asked first (what a Protectimus does with an APDU is not known). The answer does not tell
 * the Slim from the Flex, so this answers the family's name: --model
 * protectimus-flex says which.
 */
import type { ApduTransport } from '../../src/transport/types.js';
import { CMD, buildInfo, parseAnswer, parseInfoPayload } from './protocol.js';

export async function detectProtectimus(transport: ApduTransport): Promise<string | null> {
  const resp = await transport.transmit(buildInfo());
  try {
    parseInfoPayload(parseAnswer(resp, CMD.info).payload);
    return 'protectimus';
  } catch {
    return null;
  }
}

/**
 * Scripted cards for the flash-batch tests: simulated Token2 cards in memory,
 * one that is pulled mid-write, and one held on its first command until the
 * operator has pressed stop (so a stop lands between "token identified" and
 * "written" every time, not by luck of timing).
 */
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { MemoryTransport, type ApduResponder, type MemoryTransportOptions } from '../../src/transport/memory.js';

/** A card whose first command waits until `release` resolves. */
export class HeldTransport extends MemoryTransport {
  constructor(
    device: ApduResponder,
    private readonly release: Promise<void>,
    opts?: MemoryTransportOptions,
  ) {
    super(device, opts);
  }
  override async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    await this.release;
    return super.transmit(apdu);
  }
}

export const card = (serial: string) => new Token2Simulator({ model: 'token2-card', serial });

/** The serials of the scripted run: ok, skip (known with a seed), pulled at command 5 (config written, seed not), cancel. */
export const SCRIPT = {
  ok: '86596220000301',
  known: '86596220000302',
  pulled: '86596220000303',
  cancel: '86596220000304',
};
export const KNOWN_SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'; // labelled test seed

/** The four cards in order; the fourth waits for `stopped` (the operator's stop) before answering. */
export function scriptedCards(stopped: Promise<void>, readerName?: string) {
  const sims = [card(SCRIPT.ok), card(SCRIPT.known), card(SCRIPT.pulled), card(SCRIPT.cancel)];
  const transports = [
    new MemoryTransport(sims[0]!, { readerName }),
    new MemoryTransport(sims[1]!, { readerName }),
    new MemoryTransport(sims[2]!, { readerName, removeBeforeCommand: 5 }),
    new HeldTransport(sims[3]!, stopped, { readerName }),
  ];
  return { sims, transports };
}

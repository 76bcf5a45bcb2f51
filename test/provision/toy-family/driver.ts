/**
 * A throw-away family's driver side, as drivers/toy/index.ts would be: a token
 * that tells its serial (PING, 00 01) and takes a seed (SEED, 00 02). Loaded
 * through TOKENSMITH_FAMILY_MODULES by test/provision/throwaway-family.test.ts.
 */
import { RECORD_FLAG, type DeviceFamily, type FamilySimulator } from '../../../drivers/family.js';
import type { ApduTransport } from '../../../src/transport/types.js';

const OK = Uint8Array.of(0x90, 0x00);
export const PING = Uint8Array.of(0x00, 0x01, 0x00, 0x00);

/** The token's serial, or null when the device does not answer PING as a toy does. */
export async function toySerial(transport: ApduTransport): Promise<string | null> {
  const r = await transport.transmit(PING);
  if (r.length < 3 || r[r.length - 2] !== 0x90) return null;
  const serial = Buffer.from(r.subarray(0, r.length - 2)).toString('latin1');
  return serial.startsWith('TOY-') ? serial : null;
}

export function seedCommand(seed: Uint8Array): Uint8Array {
  return Uint8Array.from([0x00, 0x02, 0x00, 0x00, seed.length, ...seed]);
}

/** The simulated toy: answers PING and SEED, 6D00 to anything else (so other families' probes see "not mine"). */
export class ToyCard {
  seed: Uint8Array | null = null;
  commands = 0;
  readonly atr = Uint8Array.of(0x3b, 0x00);
  constructor(readonly serial: string) {}
  process(apdu: Uint8Array): Uint8Array {
    this.commands++;
    if (apdu[0] === 0x00 && apdu[1] === 0x01) return Uint8Array.from([...Buffer.from(this.serial, 'latin1'), ...OK]);
    if (apdu[0] === 0x00 && apdu[1] === 0x02) {
      this.seed = apdu.slice(5, 5 + apdu[4]!);
      return OK;
    }
    return Uint8Array.of(0x6d, 0x00);
  }
  /** What `tokensmith simulate toy-token --state` writes (a test seed, in hex). */
  stateView() {
    return {
      serial: this.serial,
      seedHex: this.seed ? Buffer.from(this.seed).toString('hex') : null,
      commands: this.commands,
    };
  }
}

/** `tokensmith simulate toy-token --vpcd`: the card on the real PC/SC stack; in a --cards run a written card leaves at once, one only looked at after a quiet spell. */
const simulator: FamilySimulator = {
  defaultSerial: () => 'TOY-1',
  options: [],
  create(_model, settings, onChange) {
    const card = new ToyCard(settings.serial);
    return {
      atr: card.atr,
      process(apdu) {
        const answer = card.process(apdu);
        // Any other command only looked at it (another family's probe included): it leaves after a quiet spell.
        onChange({ readBack: apdu[1] === 0x02, lookedAt: apdu[1] !== 0x02 });
        return answer;
      },
      stateView: () => card.stateView(),
    };
  },
};

const toy: DeviceFamily = {
  name: 'toy',
  models: ['toy-token'],
  summary: 'a throw-away test family',
  operations: ['flash'],
  verbs: ['info', 'flash'],
  // Its flash records a session (./provision.ts), so it declares --record as the built-in families that record do.
  flags: { flash: [RECORD_FLAG] },
  isSeedBearing: (c) => c[1] === 0x02,
  describe: (b, dir) => (dir === 'command' ? (b[1] === 1 ? 'PING' : b[1] === 2 ? 'SEED' : 'unknown') : 'answer'),
  detect: async (t) => ((await toySerial(t)) ? 'toy-token' : null),
  simulator,
  // Before the built-in families: their probes would only get 6D00 from it anyway.
  detectOrder: 0,
  async replay(_model, op, transport, ctx) {
    if (op.name !== 'flash') throw new Error(`toy: no operation ${op.name}`);
    if (!(await toySerial(transport))) throw new Error('toy: no PING answer');
    const r = await transport.transmit(seedCommand(ctx.seed ?? new Uint8Array(20)));
    if (r[r.length - 2] !== 0x90) throw new Error('toy: seed refused');
  },
};
export default toy;

/** The Protectimus family (Slim NFC, Flex): one DeviceFamily for the registry. */
import { encodeBase32 } from '../../src/core/codecs.js';
import { DataError, UsageError } from '../../src/core/errors.js';
import type { DeviceFamily, SimulatorSettings } from '../family.js';
import { detectProtectimus } from './detect.js';
import { describeFrame } from './describe.js';
import { PROTECTIMUS_HELP, PROTECTIMUS_SIMULATOR_HELP } from './help.js';
import { ProtectimusDriver, seedWriteNotPublic } from './driver.js';
import { PROTECTIMUS_MODELS, type ProtectimusModel } from './protocol.js';
import { DEFAULT_PROTECTIMUS_SERIALS, ProtectimusSimulator } from './simulator.js';

const hexToB32 = (h: string | null) => (h ? encodeBase32(Buffer.from(h, 'hex')) : null);

function createSimulator(
  model: string,
  s: SimulatorSettings,
  onChange: (p: { readBack: boolean; lookedAt: boolean }) => void,
) {
  const interval = Number(s.period ?? 30);
  if (interval !== 30 && interval !== 60) throw new UsageError(`--period: 30 or 60, not '${s.period}'`);
  let written = false;
  const sim = new ProtectimusSimulator({
    model: model as ProtectimusModel,
    serial: s.serial,
    seed: s.seed,
    interval,
    clockOffset: s.clockOffset,
    onChange: (st) => {
      if (st.lastCommand === 'setTime') written = true;
      onChange({ readBack: written && st.lastCommand === 'readCode', lookedAt: false });
    },
  });
  const stateView = () => {
    const st = sim.state();
    return { ...st, seed: hexToB32(st.seedHex) };
  };
  return { atr: sim.atr, process: (frame: Uint8Array) => sim.process(frame), stateView };
}

export const protectimus: DeviceFamily = {
  name: 'protectimus',
  models: PROTECTIMUS_MODELS,
  summary: 'Protectimus Slim NFC and Flex: factory-seeded TOTP tokens whose clock is set over NFC',
  describe: describeFrame,
  simulator: {
    defaultSerial: (model) => DEFAULT_PROTECTIMUS_SERIALS[model as ProtectimusModel],
    options: ['seed', 'period'],
    ...PROTECTIMUS_SIMULATOR_HELP,
    create: createSimulator,
  },
  help: PROTECTIMUS_HELP,
  detect: detectProtectimus,
  // Asked first: the Token2 firmware answers its class 86 with 6E00 (documented), while what a Protectimus does with an APDU is not.
  detectOrder: 5,
  flags: {
    info: [
      { flag: '--serial <s>', description: 'Protectimus: the serial printed on the token, to match it in the store' },
    ],
    sync: [
      { flag: '--serial <s>', description: 'Protectimus: the serial printed on the token, to match it in the store' },
    ],
    verify: [
      {
        flag: '--serial <s>',
        description: 'Protectimus: the serial printed on the token (the token reads its own code; no --code needed)',
      },
    ],
  },
  verbs: ['info', 'sync', 'verify'],
  // Its seed-write command is not public: say so instead of a bare "has no 'flash'".
  refuse: (verb, model) => (verb === 'flash' ? seedWriteNotPublic(model) : undefined),
  operations: ['info', 'read-code', 'set-time'],
  async replay(_model, op, transport, ctx) {
    const d = new ProtectimusDriver(transport, { now: ctx.now });
    if (op.name === 'info') {
      await d.readUid();
      await d.readInfo();
    } else if (op.name === 'read-code') await d.readCode();
    else if (op.name === 'set-time') await d.setTime();
    else
      throw new DataError(
        `protectimus has no cassette operation '${op.name}' (it replays ${this.operations.join(', ')})`,
        { code: 'bad-cassette' },
      );
  },
};
export default protectimus;

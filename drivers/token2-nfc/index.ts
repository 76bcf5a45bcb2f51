/** The Token2 NFC family (card, fob, fob C302-i): one DeviceFamily for the registry. */
import { encodeBase32 } from '../../src/core/codecs.js';
import { DataError, UsageError } from '../../src/core/errors.js';
import { RECORD_FLAG, type DeviceFamily, type SimulatorSettings } from '../family.js';
import { detectToken2Nfc } from './detect.js';
import { TOKEN2_NFC_HELP, TOKEN2_NFC_SIMULATOR_HELP } from './help.js';
import { describeFrame, isSeedBearing } from './describe.js';
import { Token2Driver, type Token2Settings } from './driver.js';
import { TOKEN2_MODELS, algorithmCode, isToken2Model, periodCode, type Token2Model } from './protocol.js';
import { DEFAULT_SERIALS, Token2Simulator, type SimulatorState } from './simulator.js';

/** The --state file: the simulator's state, with the seed also in base32 (the form --seed takes). */
export function stateFileView(s: SimulatorState): Record<string, unknown> {
  return { ...s, seed: s.seedHex ? encodeBase32(Buffer.from(s.seedHex, 'hex')) : null };
}

function settingsFrom(p: Record<string, unknown>): Token2Settings {
  return {
    algorithm: p.algorithm as Token2Settings['algorithm'],
    period: Number(p.period) as Token2Settings['period'],
    displayTimeout: Number(p.displayTimeout) as Token2Settings['displayTimeout'],
  };
}

function createSimulator(
  model: string,
  s: SimulatorSettings,
  onChange: (p: { readBack: boolean; lookedAt: boolean }) => void,
) {
  const alg = (s.algorithm ?? 'sha1').toLowerCase();
  if (alg !== 'sha1' && alg !== 'sha256') throw new UsageError(`--algorithm: sha1 or sha256, not '${s.algorithm}'`);
  const period = Number(s.period ?? 30);
  if (period !== 30 && period !== 60) throw new UsageError(`--period: 30 or 60, not '${s.period}'`);
  let written = false;
  const sim: Token2Simulator = new Token2Simulator({
    model: model as Token2Model,
    serial: s.serial,
    clockOffset: s.clockOffset,
    seed: s.seed ?? null,
    algorithmCode: algorithmCode(alg),
    periodCode: periodCode(period),
    keyLocked: Boolean(s.locked),
    onChange: (st) => {
      // Written: the seed, or the clock on a model whose config write keeps the seed (C302-i); then read back by an info.
      if (
        st.lastStatus === '9000' &&
        (st.lastCommand === 'writeSeed' || (st.lastCommand === 'writeConfig' && !sim.restricted))
      )
        written = true;
      onChange({
        readBack: written && st.lastStatus === '9000' && st.lastCommand === 'info',
        lookedAt: !written && st.lastCommand === 'info',
      });
    },
  });
  return {
    atr: sim.atr,
    process: (apdu: Uint8Array) => sim.process(apdu),
    reset: () => sim.reset(),
    stateView: () => stateFileView(sim.state()),
  };
}

export const token2Nfc: DeviceFamily = {
  name: 'token2-nfc',
  models: TOKEN2_MODELS,
  summary: 'Token2 NFC programmable TOTP tokens: one seed each, written over NFC',
  describe: describeFrame,
  isSeedBearing,
  simulator: {
    defaultSerial: (model) => DEFAULT_SERIALS[model as Token2Model],
    options: ['seed', 'algorithm', 'period', 'locked'],
    ...TOKEN2_NFC_SIMULATOR_HELP,
    create: createSimulator,
  },
  help: TOKEN2_NFC_HELP,
  detect: detectToken2Nfc,
  detectOrder: 20,
  verbs: ['info', 'flash', 'sync', 'verify'],
  // Its flash records a session (src/provision/families/token2-nfc/verbs.ts).
  flags: { flash: [RECORD_FLAG] },
  operations: ['flash', 'sync', 'info'],
  async replay(model, op, transport, ctx) {
    const p = op.params;
    const driver = new Token2Driver(transport, { now: ctx.now, model: isToken2Model(model) ? model : undefined });
    if (op.name === 'flash') await driver.flash(ctx.seed!, settingsFrom(p));
    else if (op.name === 'sync') await driver.syncClock(settingsFrom(p), ctx.seed);
    else if (op.name === 'info') await driver.readInfo();
    else
      throw new DataError(
        `token2-nfc has no cassette operation '${op.name}' (it replays ${this.operations.join(', ')})`,
        { code: 'bad-cassette' },
      );
  },
};
export default token2Nfc;

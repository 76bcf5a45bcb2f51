/**
 * The YubiKey family: model yubikey-oath (the OATH application, over any
 * PC/SC reader). The OTP application is a second model of the same family
 * (drivers/yubikey/otp/).
 */
import { DataError } from '../../src/core/errors.js';
import type { DeviceFamily, SimulatorSettings } from '../family.js';
import { describeFrame, isSeedBearing } from './describe.js';
import { OathDriver, flashCredential, readOathInfo } from './oath-driver.js';
import { DEFAULT_OATH_SERIAL, OathSimulator } from './oath-simulator.js';
import { OATH_ALGORITHMS, type OathAlgorithm, type OathType } from './oath-protocol.js';

export const YUBIKEY_OATH_MODEL = 'yubikey-oath';

function createOathSimulator(_model: string, s: SimulatorSettings, onChange: (p: { readBack: boolean; lookedAt: boolean }) => void) {
  let written = false;
  const sim = new OathSimulator({
    serial: s.serial,
    onChange: (st) => {
      if (st.lastCommand === 'put' && st.lastStatus === '9000') written = true;
      // Read back: the host's last look after a PUT (its code for a TOTP credential, else the LIST); looked at: a LIST on a key nothing was written to.
      const lastLook = st.lastPut?.calculable ? 'calculate' : 'list';
      onChange({ readBack: written && st.lastCommand === lastLook && st.lastStatus === '9000', lookedAt: !written && st.lastCommand === 'list' });
    },
  });
  return { atr: sim.atr, process: (apdu: Uint8Array) => sim.process(apdu), reset: () => sim.reset(), stateView: () => sim.state() };
}

/** A cassette's flash parameters back as the credential the driver writes. */
function credentialFrom(p: Record<string, unknown>, seed: Uint8Array) {
  const algorithm = String(p.algorithm ?? 'sha1') as OathAlgorithm;
  if (!OATH_ALGORITHMS.includes(algorithm)) throw new DataError(`cassette: unknown algorithm '${algorithm}'`, { code: 'bad-cassette' });
  return { name: String(p.name), type: String(p.type ?? 'totp') as OathType, algorithm, digits: Number(p.digits ?? 6), period: Number(p.period ?? 30), touch: Boolean(p.touch), counter: Number(p.counter ?? 0), secret: seed };
}

export const yubikey: DeviceFamily = {
  name: 'yubikey',
  models: [YUBIKEY_OATH_MODEL],
  summary: 'YubiKey: OATH credentials (TOTP/HOTP, optional touch and access password) over any PC/SC reader',
  describe: describeFrame,
  isSeedBearing,
  simulator: {
    defaultSerial: () => DEFAULT_OATH_SERIAL,
    options: [],
    create: createOathSimulator,
  },
  verbs: ['info', 'flash', 'verify', 'profiles', 'erase'],
  operations: ['flash', 'info'],
  async replay(_model, op, transport, ctx) {
    const driver = new OathDriver(transport, { now: ctx.now });
    if (op.name === 'flash') await flashCredential(driver, undefined, async () => credentialFrom(op.params, ctx.seed ?? new Uint8Array(20)));
    else if (op.name === 'info') await readOathInfo(driver, undefined);
    else throw new DataError(`yubikey has no cassette operation '${op.name}' (it replays ${this.operations.join(', ')})`, { code: 'bad-cassette' });
  },
};
export default yubikey;

/** The Token2 Molto2 family (multi-profile USB TOTP token): one DeviceFamily for the registry. */
import { encodeBase32 } from '../../src/core/codecs.js';
import { DataError, UsageError } from '../../src/core/errors.js';
import type { DeviceFamily, SimulatorSettings } from '../family.js';
import { detectMolto2 } from './detect.js';
import { describeFrame } from './describe.js';
import { MOLTO2_HELP, MOLTO2_SIMULATOR_HELP } from './help.js';
import { Molto2Driver, type Molto2Settings } from './driver.js';
import { parseCustomerKey, type Molto2Variant } from './protocol.js';
import { DEFAULT_MOLTO2_SERIAL, Molto2Simulator } from './simulator.js';

/** Customer keys that may appear in a cassette: made up for tests, never a site's key. */
export const LABELLED_TEST_CUSTOMER_KEYS = ['WRONG-TEST-KEY-1'];

const hexToB32 = (h: string | null) => (h ? encodeBase32(Buffer.from(h, 'hex')) : null);

function createSimulator(
  _model: string,
  s: SimulatorSettings,
  onChange: (p: { readBack: boolean; lookedAt: boolean }) => void,
) {
  const variant = (s.variant ?? 'molto2v2') as Molto2Variant;
  if (variant !== 'molto2' && variant !== 'molto2v2')
    throw new UsageError(`--variant: molto2 (50 profiles) or molto2v2 (100), not '${s.variant}'`);
  let written = false;
  const sim = new Molto2Simulator({
    variant,
    serial: s.serial,
    customerKey: s.customerKey ? parseCustomerKey(s.customerKey) : undefined,
    clockOffset: s.clockOffset,
    onChange: (st) => {
      if (st.lastCommand === 'writeConfig' && st.lastStatus === '9000') written = true;
      onChange({ readBack: written && st.lastCommand === 'readProfile', lookedAt: false });
    },
  });
  const stateView = () => {
    const st = sim.state();
    return { ...st, profiles: st.profiles.map((p) => ({ ...p, seed: hexToB32(p.seedHex) })) };
  };
  return { atr: sim.atr, process: (apdu: Uint8Array) => sim.process(apdu), reset: () => sim.reset(), stateView };
}

export const molto2: DeviceFamily = {
  name: 'token2-molto2',
  models: ['token2-molto2'],
  summary: 'Token2 Molto2: a USB token with 50 or 100 TOTP profiles, each with its own seed and clock',
  describe: describeFrame,
  simulator: {
    defaultSerial: () => DEFAULT_MOLTO2_SERIAL,
    options: ['customerKey', 'variant'],
    ...MOLTO2_SIMULATOR_HELP,
    create: createSimulator,
  },
  help: MOLTO2_HELP,
  // A Token2 NFC token answers this family's probe INS too (with its info): ask for a profile block first.
  detect: detectMolto2,
  detectOrder: 10,
  flags: {
    flash: [
      { flag: '--profile <n>', description: 'Molto2: the profile to write (0-99 on a Molto2v2, 0-49 on a Molto2)' },
      { flag: '--title <t>', description: 'Molto2: the profile title shown on the display (up to 12 bytes)' },
      {
        flag: '--customer-key <key>',
        description: 'Molto2: the customer key, 32 hex digits or text (default: the factory key); never logged',
      },
    ],
    info: [{ flag: '--customer-key <key>', description: 'Molto2: the customer key (default: the factory key)' }],
    erase: [{ flag: '--profile <n>', description: 'Molto2: the profile to empty' }],
    sync: [
      { flag: '--profile <n>', description: 'Molto2: set the clock of this profile' },
      { flag: '--all-profiles', description: 'Molto2: set the clock of every profile' },
      { flag: '--customer-key <key>', description: 'Molto2: the customer key (default: the factory key)' },
    ],
  },
  verbs: ['info', 'flash', 'sync', 'profiles', 'erase'],
  refuse: (verb) =>
    verb === 'verify'
      ? new UsageError(
          "token2-molto2 has no 'verify': the Molto2 cannot be read back; check a code from its display with `tokensmith tokens code <serial>-<nn>`",
          'not-supported',
        )
      : undefined,
  operations: ['flash-profile', 'profiles', 'sync-profiles'],
  async replay(_model, op, transport, ctx) {
    const p = op.params;
    const key = typeof p.customerKey === 'string' ? p.customerKey : undefined;
    if (key !== undefined && !LABELLED_TEST_CUSTOMER_KEYS.includes(key))
      throw new DataError(`cassette carries a customer key that is not a labelled test key`, { code: 'bad-cassette' });
    const d = new Molto2Driver(transport, { now: ctx.now, customerKey: key ? parseCustomerKey(key) : undefined });
    if (op.name === 'flash-profile') {
      const settings = {
        algorithm: p.algorithm,
        digits: Number(p.digits),
        period: Number(p.period),
        displayTimeout: Number(p.displayTimeout),
      } as Molto2Settings;
      await d.writeProfile(Number(p.profile), ctx.seed ?? new Uint8Array(20).fill(0x5a), settings, {
        title: p.title as string | undefined,
        force: Boolean(p.force),
      });
    } else if (op.name === 'profiles') await d.listProfiles();
    else if (op.name === 'sync-profiles') await d.syncProfiles(p.profiles === 'all' ? 'all' : (p.profiles as number[]));
    else
      throw new DataError(
        `token2-molto2 has no cassette operation '${op.name}' (it replays ${this.operations.join(', ')})`,
        { code: 'bad-cassette' },
      );
  },
};
export default molto2;

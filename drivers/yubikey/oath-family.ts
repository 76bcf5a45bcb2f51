/** The yubikey-oath model's part of the yubikey family: its simulator factory and how its cassettes replay. */
import { DataError } from '../../src/core/errors.js';
import type { ApduTransport } from '../../src/transport/types.js';
import type { CassetteOperation } from '../../src/transport/types.js';
import type { ReplayContext, SimulatedDevice, SimulatorProgress, SimulatorSettings } from '../family.js';
import { OathDriver, flashCredential, readOathInfo, type OathCredentialSpec } from './oath-driver.js';
import { OathSimulator } from './oath-simulator.js';
import { OATH_ALGORITHMS, type OathAlgorithm, type OathType } from './oath-protocol.js';

export const YUBIKEY_OATH_MODEL = 'yubikey-oath';
export const OATH_OPERATIONS = ['flash', 'info'] as const;

export function createOathSimulator(s: SimulatorSettings, onChange: (p: SimulatorProgress) => void): SimulatedDevice {
  let written = false;
  const sim = new OathSimulator({
    serial: s.serial,
    onChange: (st) => {
      if (st.lastCommand === 'put' && st.lastStatus === '9000') written = true;
      // Read back: the host's last look after a PUT (its code for a TOTP credential, else the LIST); looked at: a LIST on a key nothing was written to.
      const lastLook = st.lastPut?.calculable ? 'calculate' : 'list';
      onChange({
        readBack: written && st.lastCommand === lastLook && st.lastStatus === '9000',
        lookedAt: !written && st.lastCommand === 'list',
      });
    },
  });
  return {
    atr: sim.atr,
    process: (apdu: Uint8Array) => sim.process(apdu),
    reset: () => sim.reset(),
    stateView: () => sim.state(),
  };
}

/** A cassette's flash parameters back as the credential the driver writes. */
function credentialFrom(p: Record<string, unknown>, seed: Uint8Array): OathCredentialSpec {
  const algorithm = String(p.algorithm ?? 'sha1') as OathAlgorithm;
  if (!OATH_ALGORITHMS.includes(algorithm))
    throw new DataError(`cassette: unknown algorithm '${algorithm}'`, { code: 'bad-cassette' });
  return {
    name: String(p.name),
    type: String(p.type ?? 'totp') as OathType,
    algorithm,
    digits: Number(p.digits ?? 6),
    period: Number(p.period ?? 30),
    touch: Boolean(p.touch),
    counter: Number(p.counter ?? 0),
    secret: seed,
  };
}

/** Runs a recorded OATH operation again through the real driver (recordings without an access password). */
export async function replayOath(op: CassetteOperation, transport: ApduTransport, ctx: ReplayContext): Promise<void> {
  const driver = new OathDriver(transport, { now: ctx.now });
  if (op.name === 'flash')
    await flashCredential(driver, undefined, async () => credentialFrom(op.params, ctx.seed ?? new Uint8Array(20)));
  else if (op.name === 'info') await readOathInfo(driver, undefined);
  else
    throw new DataError(
      `yubikey-oath has no cassette operation '${op.name}' (it replays ${OATH_OPERATIONS.join(', ')})`,
      { code: 'bad-cassette' },
    );
}

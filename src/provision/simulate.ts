/**
 * `tokensmith simulate <model>`: one runner for every family's simulator,
 * plugged into pcscd through vpcd, one device after another with --cards
 * (each its own serial; the next comes once the current one has been written
 * and read back, the way an operator swaps them). Options a family's
 * simulator does not honour are refused by name, never ignored.
 */
import { writeFileSafelySync } from '../core/safe-file.js';
import { decodeBase32 } from '../core/codecs.js';
import { UsageError } from '../core/errors.js';
import { VpcdClient, parseVpcdAddress, type VirtualCard } from '../transport/vpcd.js';
import {
  SIMULATOR_OPTION_FLAGS,
  type DeviceFamily,
  type SimulatedDevice,
  type SimulatorOptionName,
  type SimulatorSettings,
} from '../../drivers/family.js';
import { familyOfModel } from '../../drivers/registry.js';

/** How long a token the host only read (a batch skipping it) stays on the reader. */
const LOOKED_AT_MS = 3000;
/**
 * The pause between one card leaving and the next arriving, as a hand takes the next one. pcscd
 * sees a vpcd card come and go only when it polls the reader (every 400 ms): a quicker swap goes
 * unseen, and a host holding the reader open keeps talking to a card that is gone.
 */
export const NEXT_CARD_MS = 1000;

export interface SimulateOptions {
  vpcd?: string | boolean;
  serial?: string;
  state?: string;
  cards?: string;
  clockOffset?: string;
  seed?: string;
  algorithm?: string;
  period?: string;
  locked?: boolean;
  pullAt?: string;
  customerKey?: string;
  variant?: string;
}

/** The state holds the simulated token's seed: mode 0600, never through a link, replaced whole. */
function writeJsonAtomically(path: string, value: unknown): void {
  writeFileSafelySync(path, JSON.stringify(value, null, 2) + '\n');
}

function nthSerial(base: string, i: number): string {
  if (i === 0) return base;
  if (!/^\d+$/.test(base)) return `${base}-${i + 1}`;
  return (BigInt(base) + BigInt(i)).toString().padStart(base.length, '0');
}

/** The family's own options from the command line; one it does not honour is a usage error naming it. */
function familySettings(family: DeviceFamily, o: SimulateOptions): Omit<SimulatorSettings, 'serial' | 'clockOffset'> {
  const honoured = family.simulator?.options ?? [];
  const given = (Object.keys(SIMULATOR_OPTION_FLAGS) as SimulatorOptionName[]).filter((k) => o[k] !== undefined);
  const refused = given.find((k) => !honoured.includes(k));
  if (refused)
    throw new UsageError(
      `simulate: ${family.name} has no ${SIMULATOR_OPTION_FLAGS[refused]} (its simulator takes ${honoured.map((k) => SIMULATOR_OPTION_FLAGS[k]).join(', ') || 'no family options'})`,
      'option-not-supported',
    );
  return {
    seed: o.seed ? decodeBase32(o.seed, '--seed') : undefined,
    algorithm: o.algorithm,
    period: o.period,
    locked: o.locked,
    customerKey: o.customerKey,
    variant: o.variant,
  };
}

/** The card vpcd sees: the simulator, except that with --pull-at n the nth command takes it away unanswered (a fault drill). */
function withPullAt(sim: SimulatedDevice, pullAt: number, onPull: (n: number) => void): VirtualCard {
  let received = 0;
  return {
    atr: sim.atr,
    reset: () => sim.reset?.(),
    process: (apdu: Uint8Array) => {
      if (++received !== pullAt) return sim.process(apdu);
      onPull(received);
      return null;
    },
  };
}

/** The options every family's simulator takes, checked: where vpcd is, how many cards, their clock, when to pull one. */
function runOptions(o: SimulateOptions) {
  const address = parseVpcdAddress(o.vpcd === true ? undefined : (o.vpcd as string));
  const cards = Number(o.cards ?? 1);
  if (!Number.isInteger(cards) || cards < 1)
    throw new UsageError(`--cards must be a whole number from 1, got '${o.cards}'`);
  const clockOffset = Number(o.clockOffset ?? -90);
  if (!Number.isFinite(clockOffset))
    throw new UsageError(`--clock-offset must be a number of seconds, got '${o.clockOffset}'`);
  const pullAt = o.pullAt === undefined ? 0 : Number(o.pullAt);
  if (!Number.isInteger(pullAt) || pullAt < 0)
    throw new UsageError(`--pull-at must be a whole number of commands, got '${o.pullAt}'`);
  return { address, cards, clockOffset, pullAt };
}

export async function runSimulator(model: string, o: SimulateOptions, say: (line: string) => void): Promise<void> {
  const family = await familyOfModel(model, 'simulate');
  const simulator = family.simulator;
  if (!simulator) throw new UsageError(`simulate: ${family.name} has no simulator`, 'not-supported');
  if (o.vpcd === undefined)
    throw new UsageError(
      'simulate needs --vpcd: the simulator plugs into pcscd through vsmartcard vpcd (tests and the demo use it in memory)',
    );
  const { address, cards, clockOffset, pullAt } = runOptions(o);
  const settings = familySettings(family, o);
  const base = o.serial ?? simulator.defaultSerial(model);
  const sims: SimulatedDevice[] = [];
  const save = () =>
    o.state &&
    writeJsonAtomically(o.state, cards === 1 ? sims[0]!.stateView() : { cards: sims.map((s) => s.stateView()) });

  let stopping = false;
  let current: VpcdClient | null = null;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 1000).unref();
    await current?.close();
    say('simulator stopped: the token left the reader');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  for (let i = 0; i < cards && !stopping; i++) {
    const serial = nthSerial(base, i);
    let idle: NodeJS.Timeout | undefined;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const sim = simulator.create(model, { ...settings, serial, clockOffset }, ({ readBack, lookedAt }) => {
      save();
      if (cards === 1) return;
      clearTimeout(idle);
      // A token leaves once written and read back; one the host only looked at (a batch skips one it knows)
      // after three seconds of quiet: long enough for a host that asks its store about the serial between two commands.
      if (readBack) setTimeout(finished, 50);
      else if (lookedAt) idle = setTimeout(finished, LOOKED_AT_MS);
    });
    sims[i] = sim;
    save();
    const card = withPullAt(sim, pullAt, (n) => {
      say(`command ${n} arrived: taking token ${serial} off the reader without answering (--pull-at)`);
      stopping = true;
      setTimeout(() => process.exit(0), 200);
    });
    const client: VpcdClient = new VpcdClient(card, {
      host: address.host,
      port: address.port,
      log: say,
      onClose: () => {
        if (stopping) return;
        say(`vpcd at ${client.address} closed the connection (pcscd stopped?); reconnecting`);
        client.connectWithRetry(0).then(
          () => say(`token ${serial} is back on the reader`),
          () => {},
        );
      },
    });
    current = client;
    await client.connectWithRetry(0, () =>
      say(`waiting for vpcd at ${client.address} (is pcscd running with vsmartcard-vpcd?)`),
    );
    say(
      `simulated ${model} ${serial} is on the virtual reader (vpcd ${client.address})${o.state ? `; state in ${o.state}` : ''}; Ctrl-C to take it away`,
    );
    if (cards === 1) await new Promise<never>(() => {});
    await done;
    await client.close();
    say(`token ${serial} written and read back: taken off the reader (${i + 1}/${cards})`);
    await new Promise((r) => setTimeout(r, NEXT_CARD_MS));
  }
  say(`all ${cards} simulated tokens were written`);
}

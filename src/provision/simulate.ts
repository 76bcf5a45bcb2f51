/**
 * `tokensmith simulate`: Token2 simulators plugged into pcscd through vpcd,
 * one card after another, each writing its state file after every command.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { decodeBase32, encodeBase32 } from '../core/codecs.js';
import { UsageError } from '../core/errors.js';
import { VpcdClient, parseVpcdAddress } from '../transport/vpcd.js';
import { DEFAULT_SERIALS, Token2Simulator, type SimulatorState } from '../../drivers/token2-nfc/simulator.js';
import { algorithmCode, isToken2Model, periodCode, type Token2Model } from '../../drivers/token2-nfc/protocol.js';

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
}

/** The --state file: the simulator's state, with the seed also in base32 (the form --seed takes). */
export function stateFileView(s: SimulatorState): Record<string, unknown> {
  return { ...s, seed: s.seedHex ? encodeBase32(Buffer.from(s.seedHex, 'hex')) : null };
}

function writeJsonAtomically(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

function nthSerial(base: string, i: number): string {
  if (i === 0) return base;
  if (!/^\d+$/.test(base)) return `${base}-${i + 1}`;
  return (BigInt(base) + BigInt(i)).toString().padStart(base.length, '0');
}

export async function runSimulator(modelInput: string, o: SimulateOptions, say: (line: string) => void): Promise<void> {
  if (!isToken2Model(modelInput)) throw new UsageError(`simulate: '${modelInput}' is not a simulated model; use token2-card, token2-fob or token2-fob-c302`, 'bad-model');
  const model: Token2Model = modelInput;
  if (o.vpcd === undefined) throw new UsageError('simulate needs --vpcd: the simulator plugs into pcscd through vsmartcard vpcd (tests and the demo use it in memory)');
  const address = parseVpcdAddress(o.vpcd === true ? undefined : (o.vpcd as string));
  const cards = Number(o.cards ?? 1);
  if (!Number.isInteger(cards) || cards < 1) throw new UsageError(`--cards must be a whole number from 1, got '${o.cards}'`);
  const clockOffset = Number(o.clockOffset ?? -90);
  if (!Number.isFinite(clockOffset)) throw new UsageError(`--clock-offset must be a number of seconds, got '${o.clockOffset}'`);
  const alg = (o.algorithm ?? 'sha1').toLowerCase();
  if (alg !== 'sha1' && alg !== 'sha256') throw new UsageError(`--algorithm: sha1 or sha256, not '${o.algorithm}'`);
  const period = Number(o.period ?? 30);
  if (period !== 30 && period !== 60) throw new UsageError(`--period: 30 or 60, not '${o.period}'`);
  const seed = o.seed ? decodeBase32(o.seed, '--seed') : null;
  const base = o.serial ?? DEFAULT_SERIALS[model];
  const states: SimulatorState[] = [];
  const save = () => {
    if (!o.state) return;
    writeJsonAtomically(o.state, cards === 1 ? stateFileView(states[0]!) : { cards: states.map(stateFileView) });
  };

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
    let written = false;
    let idle: NodeJS.Timeout | undefined;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const sim: Token2Simulator = new Token2Simulator({
      model,
      serial,
      clockOffset,
      seed,
      algorithmCode: algorithmCode(alg),
      periodCode: periodCode(period),
      keyLocked: Boolean(o.locked),
      onChange: (s) => {
        states[i] = s;
        save();
        // With several cards, a token leaves once written (seed, or clock on a C302-i) and read back.
        if (cards > 1 && s.lastStatus === '9000') {
          if (s.lastCommand === 'writeSeed' || (s.lastCommand === 'writeConfig' && !sim.restricted)) written = true;
          else if (s.lastCommand === 'info' && written) setTimeout(finished, 50);
        }
        // A token the host only looked at (a batch skips one it knows) is taken off after three seconds of quiet:
        // long enough for a host that asks its store about the serial between two commands on a busy machine.
        if (cards > 1) {
          clearTimeout(idle);
          if (s.lastCommand === 'info' && !written) idle = setTimeout(finished, LOOKED_AT_MS);
        }
      },
    });
    states[i] = sim.state();
    save();
    let received = 0;
    const pullAt = o.pullAt === undefined ? 0 : Number(o.pullAt);
    const card = {
      atr: sim.atr,
      reset: () => sim.reset(),
      process: (apdu: Uint8Array) => {
        // A fault drill: the token leaves the reader as the nth command arrives, unanswered.
        if (++received === pullAt) {
          say(`command ${received} arrived: taking token ${serial} off the reader without answering (--pull-at)`);
          stopping = true;
          setTimeout(() => process.exit(0), 200);
          return null;
        }
        return sim.process(apdu);
      },
    };
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
    await client.connectWithRetry(0, () => say(`waiting for vpcd at ${client.address} (is pcscd running with vsmartcard-vpcd?)`));
    say(`simulated ${model} ${serial} is on the virtual reader (vpcd ${client.address})${o.state ? `; state in ${o.state}` : ''}; Ctrl-C to take it away`);
    if (cards === 1) await new Promise<never>(() => {});
    await done;
    await client.close();
    say(`token ${serial} written and read back: taken off the reader (${i + 1}/${cards})`);
    await new Promise((r) => setTimeout(r, NEXT_CARD_MS));
  }
  say(`all ${cards} simulated tokens were written`);
}

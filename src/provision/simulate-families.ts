/**
 * `tokensmith simulate token2-molto2|protectimus-slim|protectimus-flex`: the
 * Molto2 and Protectimus simulators on vpcd, one device after another with
 * --cards (each its own serial; the next comes once the current one has been
 * written and read back, the way an operator swaps them).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { decodeBase32, encodeBase32 } from '../core/codecs.js';
import { UsageError } from '../core/errors.js';
import { VpcdClient, parseVpcdAddress } from '../transport/vpcd.js';
import { DEFAULT_MOLTO2_SERIAL, Molto2Simulator } from '../../drivers/token2-molto2/simulator.js';
import { parseCustomerKey, type Molto2Variant } from '../../drivers/token2-molto2/protocol.js';
import { DEFAULT_PROTECTIMUS_SERIALS, ProtectimusSimulator } from '../../drivers/protectimus/simulator.js';
import { isProtectimusModel } from '../../drivers/protectimus/protocol.js';
import { NEXT_CARD_MS } from './simulate.js';

export const FAMILY_SIMULATOR_MODELS = ['token2-molto2', 'protectimus-slim', 'protectimus-flex'] as const;

export interface FamilySimulateOptions {
  vpcd?: string | boolean;
  serial?: string;
  state?: string;
  cards?: string;
  clockOffset?: string;
  seed?: string;
  period?: string;
  customerKey?: string;
  variant?: string;
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

const hexToB32 = (h: string | null) => (h ? encodeBase32(Buffer.from(h, 'hex')) : null);

interface Device {
  atr: Uint8Array;
  process(apdu: Uint8Array): Uint8Array;
  reset?(): void;
  state(): unknown;
}

export async function runFamilySimulator(model: string, o: FamilySimulateOptions, say: (line: string) => void): Promise<void> {
  if (o.vpcd === undefined) throw new UsageError('simulate needs --vpcd: the simulator plugs into pcscd through vsmartcard vpcd');
  const address = parseVpcdAddress(o.vpcd === true ? undefined : (o.vpcd as string));
  const cards = Number(o.cards ?? 1);
  if (!Number.isInteger(cards) || cards < 1) throw new UsageError(`--cards must be a whole number from 1, got '${o.cards}'`);
  const clockOffset = Number(o.clockOffset ?? 0);
  if (!Number.isFinite(clockOffset)) throw new UsageError(`--clock-offset must be a number of seconds, got '${o.clockOffset}'`);
  const states: unknown[] = [];
  const save = () => o.state && writeJsonAtomically(o.state, cards === 1 ? states[0] : { cards: states });

  let make: (serial: string, onChange: (lastCommand: string | null, lastOk: boolean) => void, i: number) => Device;
  let base: string;
  if (model === 'token2-molto2') {
    const variant = (o.variant ?? 'molto2v2') as Molto2Variant;
    if (variant !== 'molto2' && variant !== 'molto2v2') throw new UsageError(`--variant: molto2 (50 profiles) or molto2v2 (100), not '${o.variant}'`);
    const customerKey = o.customerKey ? parseCustomerKey(o.customerKey) : undefined;
    base = o.serial ?? DEFAULT_MOLTO2_SERIAL;
    make = (serial, onChange, i) => {
      let written = false;
      return new Molto2Simulator({
        variant,
        serial,
        customerKey,
        clockOffset,
        onChange: (s) => {
          states[i] = { ...s, profiles: s.profiles.map((p) => ({ ...p, seed: hexToB32(p.seedHex) })) };
          save();
          if (s.lastCommand === 'writeConfig' && s.lastStatus === '9000') written = true;
          onChange(s.lastCommand, written && s.lastCommand === 'readProfile');
        },
      });
    };
  } else if (isProtectimusModel(model)) {
    const interval = Number(o.period ?? 30);
    if (interval !== 30 && interval !== 60) throw new UsageError(`--period: 30 or 60, not '${o.period}'`);
    const seed = o.seed ? decodeBase32(o.seed, '--seed') : undefined;
    base = o.serial ?? DEFAULT_PROTECTIMUS_SERIALS[model];
    make = (serial, onChange, i) => {
      let written = false;
      return new ProtectimusSimulator({
        model,
        serial,
        seed,
        interval: interval as 30 | 60,
        clockOffset,
        onChange: (s) => {
          states[i] = { ...s, seed: hexToB32(s.seedHex) };
          save();
          if (s.lastCommand === 'setTime') written = true;
          onChange(s.lastCommand, written && s.lastCommand === 'readCode');
        },
      });
    };
  } else {
    throw new UsageError(`simulate: '${model}' is not a simulated model`, 'bad-model');
  }

  let stopping = false;
  let current: VpcdClient | null = null;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await current?.close();
    say('simulator stopped: the token left the reader');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  for (let i = 0; i < cards && !stopping; i++) {
    const serial = nthSerial(base, i);
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const sim = make(serial, (_cmd, readBack) => {
      if (cards > 1 && readBack) setTimeout(finished, 50);
    }, i);
    states[i] = sim.state();
    save();
    const client: VpcdClient = new VpcdClient(sim, {
      host: address.host,
      port: address.port,
      log: say,
      onClose: () => {
        if (stopping) return;
        say(`vpcd at ${client.address} closed the connection (pcscd stopped?); reconnecting`);
        void client.connectWithRetry(0).then(() => say(`token ${serial} is back on the reader`));
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

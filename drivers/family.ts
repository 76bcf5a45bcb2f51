/**
 * The shape every device family has: its models, its frame describer, its
 * simulator and how a recorded operation is replayed through its driver. The
 * registry (drivers/registry.ts) lists the families; the CLI, the simulator
 * runner and the cassette services ask it instead of naming a family.
 */
import type { ApduTransport, CassetteOperation, FrameDescriber } from '../src/transport/types.js';

/** The `simulate` options a family may honour beyond the ones every simulator has (--serial, --state, --cards, --clock-offset, --pull-at). */
export type SimulatorOptionName = 'seed' | 'algorithm' | 'period' | 'locked' | 'customerKey' | 'variant';

/** The option as the command line spells it, for "<family> has no --x" messages. */
export const SIMULATOR_OPTION_FLAGS: Record<SimulatorOptionName, string> = {
  seed: '--seed',
  algorithm: '--algorithm',
  period: '--period',
  locked: '--locked',
  customerKey: '--customer-key',
  variant: '--variant',
};

/** What the runner passes a family's simulator factory (only the options the family lists are ever set). */
export interface SimulatorSettings {
  serial: string;
  /** The token's clock minus the host's, in seconds. */
  clockOffset: number;
  seed?: Uint8Array;
  algorithm?: string;
  period?: string;
  locked?: boolean;
  customerKey?: string;
  variant?: string;
}

/** After each command: whether the token has been written and read back, or only looked at (a --cards run swaps on these). */
export interface SimulatorProgress {
  readBack: boolean;
  lookedAt: boolean;
}

/** A simulated device as the runner plugs it into vpcd. */
export interface SimulatedDevice {
  readonly atr: Uint8Array;
  process(apdu: Uint8Array): Uint8Array | null;
  reset?(): void;
  /** What the --state file shows (seeds also in base32, the form --seed takes). */
  stateView(): unknown;
}

export interface FamilySimulator {
  defaultSerial(model: string): string;
  options: readonly SimulatorOptionName[];
  /** Throws a UsageError for a bad option value; `onChange` runs after every command. */
  create(model: string, settings: SimulatorSettings, onChange: (progress: SimulatorProgress) => void): SimulatedDevice;
}

/** What a replay gives the family: the recording's clock and the seed (a stand-in of its length when redacted). */
export interface ReplayContext {
  now: () => number;
  seed: Uint8Array | null;
}

/** The `tokensmith device <verb>` commands; each family lists the ones it supports. */
export const DEVICE_VERBS = ['info', 'flash', 'sync', 'verify', 'profiles', 'erase'] as const;
export type DeviceVerb = (typeof DEVICE_VERBS)[number];

/** What `device info` prints for a family that reads its own info without the store: field name to value. */
export type DeviceInfoFields = Record<string, string | number | boolean | null>;

export interface DeviceFamily {
  /** The folder name under drivers/, also what messages call it. */
  name: string;
  models: readonly string[];
  /** One line for `device models`. */
  summary: string;
  describe: FrameDescriber;
  /** Frames that carry a seed (redacted in a cassette unless the seed is a labelled test seed). */
  isSeedBearing?: (command: Uint8Array) => boolean;
  simulator?: FamilySimulator;
  /** The cassette operations this family replays, by name. */
  operations: readonly string[];
  /** The `device` verbs this family supports; any other is refused by name before the reader is opened. */
  verbs: readonly DeviceVerb[];
  /** Why a verb is missing, when there is more to say than "has no": the error to throw instead. */
  refuse?: (verb: DeviceVerb, model: string) => Error | undefined;
  /** `device info` for a family without a store-side implementation: read what the device says about itself. */
  readInfo?: (model: string, transport: ApduTransport) => Promise<DeviceInfoFields>;
  /** Runs a recorded operation again through the real driver over `transport`. */
  replay(model: string, op: CassetteOperation, transport: ApduTransport, ctx: ReplayContext): Promise<void>;
}

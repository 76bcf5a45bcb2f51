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
  /** What each of its options means for its models, as `simulate --help` shows it after the family's label. */
  optionHelp?: Partial<Record<SimulatorOptionName, string>>;
  /** A `simulate` example (the simulator, then a command that talks to it), for `simulate --help`. */
  example?: readonly string[];
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

/** Where a family's device is found: the reader (or port) to use and how long to wait for it. */
export interface OpenOptions {
  reader?: string;
  waitSeconds: number;
  onWaiting?: (readers: string[]) => void;
  /** The --model given (a family whose models open differently tells them apart here). */
  model?: string;
  /** The command's options (a family's own flags, e.g. which HID device). */
  options?: Readonly<Record<string, string | boolean | undefined>>;
  /** The PC/SC reader as a family without `open` gets it (--reader, --wait), for a family only some of whose models are not cards. */
  openPcsc: () => Promise<ApduTransport>;
}

/** A flag a family's verb takes beyond the ones every family of that verb takes (the CLI registers it and refuses it by name for other families). */
/** A flag's long name as commander spells it: '--profile <n>' -> '--profile'. */
export function longFlag(flag: string): string {
  return flag.split(/[ <[]/)[0]!;
}

export interface FamilyFlag {
  /** As commander spells it: '--profile <n>', '--all-profiles'. */
  flag: string;
  /** What it does, starting with the family's label ('Acme One: the slot'), unless `unlabelled`. */
  description: string;
  /** A flag several families declare alike (RECORD_FLAG): its text names no family; the help puts the labels of the families that declare it before it. */
  unlabelled?: boolean;
}

/** `device flash --record`, declared by each family whose flash records its session: the others refuse it by name instead of ignoring it. */
export const RECORD_FLAG: FamilyFlag = {
  flag: '--record <cassette>',
  description: 'record the session as a cassette (a seed that is not a labelled test seed is redacted)',
  unlabelled: true,
};

/** How `device <verb> --help` teaches a family's part of a verb (src/cli/commands/device-help.ts assembles them). */
export interface FamilyVerbHelp {
  /** Its clause in the verb's description ('on an Acme One, to one slot'). */
  what?: string;
  /** The options every family of the verb shares that this one takes while others do not: the option's text starts with the family's label. */
  takes?: readonly string[];
  /** Its notes on shared options, by long flag ('--digits': 'an Acme One slot 6 or 8'), in brackets after the option's text. */
  notes?: Readonly<Record<string, string>>;
  /** Command lines under the verb's "Examples:". */
  examples?: readonly string[];
  /** Paragraphs of its own after the examples: a heading and its command lines. */
  sections?: readonly { heading: string; lines: readonly string[] }[];
}

/** How the `device` help names a family and its part of each verb. */
export interface FamilyHelp {
  /** Its short name in option texts ('Acme One'). */
  label: string;
  /** What `device --help` says it programs, and how it is reached ('a PC/SC reader', 'USB HID'). */
  devices: readonly { via: string; what: string }[];
  /** What `device list` shows of its devices besides the PC/SC readers ('the Acme keys on USB HID'), with `listDevices`. */
  listed?: string;
  verbs?: Partial<Record<DeviceVerb, FamilyVerbHelp>>;
}

/** A device `device list` shows that is not a PC/SC reader (a key on USB HID). */
export interface ListedDevice {
  /** What the READER column shows, with how to reach it ('Acme Key (USB HID, use --model acme-key)'). */
  name: string;
  /** How tokensmith reaches it ('hid'). */
  kind: string;
  /** Its OS path (the ATR column shows it). */
  path: string;
}

/** What `device <verb>` prints with: a result (JSON with --json, else the text) and messages on stderr. */
export interface VerbOutput {
  result(value: unknown, text: string | (() => string)): void;
  info(message: string): void;
  readonly interactive: boolean;
}

/** How a verb asks the person at the terminal: the CLI passes one (src/cli/prompter.ts); a caller with nobody to ask passes one that refuses. */
export interface Prompter {
  select(o: { message: string; choices: { name?: string; value: string }[]; default?: string }): Promise<string>;
  input(o: { message: string }): Promise<string>;
  confirm(o: { message: string; default?: boolean }): Promise<boolean>;
  /** Typed without echo (a password, an access code). */
  password(o: { message: string }): Promise<string>;
}

/**
 * Everything a verb handler gets: the device, the model (given with --model,
 * or what detection read), the command's options, and the store (typed by the
 * caller: src/provision/families/verb-types.ts; drivers/ cannot import it).
 */
export interface VerbContext<S = unknown> {
  family: DeviceFamily;
  /** The --model given, or the model detection read (a family's own name when the device does not tell its exact model). */
  model: string;
  modelGiven: boolean;
  transport: ApduTransport;
  options: Readonly<Record<string, string | boolean | undefined>>;
  /** --yes was given. */
  yes: boolean;
  json: boolean;
  output: VerbOutput;
  /** A progress line (spinner text for a person, nothing otherwise). */
  step(text: string): void;
  /** Takes the progress line away (before a prompt). */
  stopProgress(): void;
  /** Asks the person (only when `output.interactive` and not `yes`). */
  prompt: Prompter;
  store: S;
  /** What the verb's checks gave before the device was opened (parsed settings, a secret asked for once); undefined without checks. */
  prepared?: unknown;
}

export type VerbHandler<S = unknown> = (ctx: VerbContext<S>) => Promise<void>;
export type VerbHandlers<S = unknown> = Partial<Record<DeviceVerb, VerbHandler<S>>>;

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
  /**
   * Asks the device something harmless (a read, never a write or an
   * authentication) and tells from the answer's shape whether it is one of
   * this family's: the model, the family's own name when the answer does not
   * tell the exact model, or null. Never compares the ATR.
   */
  detect?: (transport: ApduTransport) => Promise<string | null>;
  /** Place among the families detection tries (lower first, default 100): a family whose device also answers another's probe goes first. */
  detectOrder?: number;
  /** How the device is opened when it is not a PC/SC card (a HID key, say); default PC/SC. Detection (on a PC/SC reader) tries a family with `open` only when it also gives `detect`. */
  open?: (o: OpenOptions) => Promise<ApduTransport>;
  /**
   * Rules per model the family-wide `verbs` and `flags` cannot say (a verb or
   * flag only one of its models takes): the error to refuse with, before the
   * device is opened (with --model) or once detection told the model.
   */
  checkModel?: (
    verb: DeviceVerb,
    model: string,
    options: Readonly<Record<string, string | boolean | undefined>>,
  ) => Error | undefined;
  /** How the `device` commands' help names it and teaches its part of each verb. */
  help?: FamilyHelp;
  /** Its devices that are not PC/SC readers, for `device list` (none where what reaches them is not installed). */
  listDevices?: () => Promise<ListedDevice[]>;
  /** The flags each verb takes for this family beyond the common ones. */
  flags?: Partial<Record<DeviceVerb, readonly FamilyFlag[]>>;
  /** Verb handlers that live with the family (one with no store-side code); the built-in families' are in src/provision/families/<family>/. */
  handlers?: VerbHandlers;
  /** Runs a recorded operation again through the real driver over `transport`. */
  replay(model: string, op: CassetteOperation, transport: ApduTransport, ctx: ReplayContext): Promise<void>;
}

/** What the station page shows of a token it read (drivers/page-registry.ts). */
export interface PageTokenInfo {
  serial: string;
  /** Sentences for the page: what the token is and where, and what matters before writing to it. */
  text: string;
}

/**
 * What of a family runs in the station page (the browser bundle: no Node
 * module, no simulator). The page's table is drivers/page-registry.ts; each
 * family gives its part from its own folder (drivers/<family>/page.ts).
 */
export interface PageFamily {
  name: string;
  /** A token on a reader of the bridge: the family's harmless probe (as `DeviceFamily.detect`), then its info. */
  reader?: {
    detect(transport: ApduTransport): Promise<string | null>;
    readInfo(transport: ApduTransport): Promise<PageTokenInfo>;
  };
  /** Its USB HID tokens over WebHID: programmed from the page, or why not and what to do instead (sentences). */
  webHid?: { programs: true } | { programs: false; why: string };
}

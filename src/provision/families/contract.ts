/**
 * What a family gives the provision side, in its own folder
 * src/provision/families/<family>/index.ts: its `device <verb>` handlers, the
 * checks that run before the device is opened, and how the station (and any
 * batch) flashes its tokens. The table of families is ./index.ts; nothing
 * outside a family's folder names it.
 */
import type { FamilyFlag } from '../../../drivers/family.js';
import type { DemoStep } from '../demo-types.js';
import type { TokenFlasher } from '../flash-batch.js';
import type { DeviceVerbContext, FamilyVerbChecks, FamilyVerbHandlers } from './verb-types.js';

/** The station's flash form as the page sends it (strings; force a boolean). */
export interface FlashForm {
  model?: string;
  algorithm?: string;
  period?: string;
  digits?: string;
  displayTimeout?: string;
  seed?: string;
  resource?: string;
  user?: string;
  force?: boolean;
  profile?: string;
  title?: string;
  customerKey?: string;
}

/** The fields beyond the common ones (algorithm, period, digits, display timeout, seed, Resource, user) a family's form may show. */
export type FamilyFormFieldName = 'profile' | 'title' | 'customerKey';

/** One of them as the station's form shows it for the family's models. */
export interface FamilyFormField {
  name: FamilyFormFieldName;
  label: string;
  hint: string;
}

/** How the station flashes a family's tokens (the same TokenFlasher a batch runs). */
export interface StationFlash {
  /** The form's extra fields for this family's models. */
  fields?: readonly FamilyFormField[];
  /** The digit counts its tokens can show (the form's choices); default 6 only. */
  digits?: readonly number[];
  /** The products sold as a model (the model select shows them); default none. */
  products?(model: string): string[];
  /** The form -> the flasher; a bad setting is a usage error here, before any token is touched. */
  flasher(form: FlashForm): Promise<TokenFlasher>;
  /**
   * A form without a model (the token on the reader says its family): whether it
   * asks for this family too; when not, `notAsked` is the error for one of its
   * tokens. Default: asked.
   */
  asked?(form: FlashForm): boolean;
  notAsked?(readerName: string): Error;
}

/** What a family's batch settings see: the options, and how to ask the person at a terminal. */
export type BatchSettingsContext = Pick<DeviceVerbContext, 'options' | 'output' | 'yes' | 'stopProgress' | 'prompt'>;

/**
 * How `device flash --batch` runs a family. Every batch is the one flash-batch
 * service (runFlashBatch: the counts, the batch record, the audit rows, the
 * stop), as the station's; the family gives only how each token is flashed
 * and, by `loop`, how the next one is reached:
 * `flasher`, cards one after another on the PC/SC reader; `keys`, each token
 * opened as a single flash opens it (the family's own `open`) and taken away
 * before the next. `users`: whether it takes --users (assigning each token as
 * it is flashed).
 */
export interface BatchWay {
  loop: 'flasher' | 'keys';
  users: boolean;
  /** How the --batch refusal for another family names this one (its tokens, and what the batch takes). */
  what: string;
  /** The options checked and completed (asked for at a terminal) before any token; default: as given. */
  settings?(ctx: BatchSettingsContext): Promise<Record<string, string | boolean | undefined>>;
  /** The flasher each token runs through (ctx.prepared: the flash checks' value); default: its station flasher. */
  flasher?(ctx: Omit<DeviceVerbContext, 'transport'>): Promise<TokenFlasher>;
}

/** What a family's own command runs with: the store, the device (opened the family's way, not detected), the options. */
export type FamilyCommandContext = Pick<DeviceVerbContext, 'family' | 'store' | 'transport' | 'options' | 'output'>;

/** A device command of a family's own beyond the shared verbs (a setting of the whole device): `device <group> <name>`. */
export interface FamilyCommand {
  name: string;
  description: string;
  /** Options beyond the group's; a `required` one refuses to run without it. */
  options?: readonly (FamilyFlag & { required?: boolean })[];
  /** One command line for its help. */
  example: string;
  /** Refuses before the store or the device is opened (a missing --force, say). */
  check?(options: Readonly<Record<string, string | boolean | undefined>>): Promise<void>;
  run(ctx: FamilyCommandContext): Promise<void>;
}

/** A family's own commands, registered generically under `device <name>` (src/cli/commands/device-family-commands.ts). */
export interface FamilyCommandGroup {
  /** The word after `device`. */
  name: string;
  description: string;
  /** Options every command of the group takes beyond --reader and --wait. */
  options?: readonly FamilyFlag[];
  commands: readonly FamilyCommand[];
}

export interface ProvisionFamily {
  /** The name of its drivers/ family (drivers/<name>/index.ts). */
  name: string;
  /** Its `device <verb>` handlers (a verb the driver family lists but that is missing here is refused by name). */
  verbs: FamilyVerbHandlers;
  /** Checks (and settings parsed, secrets asked for) that run before the device is opened. */
  checks?: FamilyVerbChecks;
  /** How the station and batches flash it; without it the station refuses its tokens. */
  station?: StationFlash;
  /** How `device flash --batch` runs it; without it --batch is refused by name. */
  batch?: BatchWay;
  /** Its own device commands (`device <group> <command>`), beyond the shared verbs. */
  commands?: FamilyCommandGroup;
  /** `tokensmith demo`'s flash step (a simulated token, in memory): the demo runs the first family's that gives one. */
  demo?: () => Promise<DemoStep>;
}

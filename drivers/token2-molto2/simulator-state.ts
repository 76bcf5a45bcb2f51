/** The Molto2 simulator's options, its state as the --state file shows it, and one profile's memory. */
import type { Molto2Variant } from './protocol.js';

export interface Molto2SimulatorOptions {
  variant?: Molto2Variant;
  serial?: string;
  /** The customer key the device holds (default: the factory key). */
  customerKey?: Uint8Array;
  /** The device clock minus the host's, in seconds (every profile starts there). */
  clockOffset?: number;
  now?: () => number;
  random?: (n: number) => Uint8Array;
  /** Tries left before the customer key is blocked. */
  tries?: number;
  /** Whether the ▲ button gets pressed after a 9060 (default yes: applied at once). */
  pressButton?: boolean;
  /** Firmware 2.1+ knows lock/unlock screen. */
  screenLock?: boolean;
  onChange?: (s: Molto2SimulatorState) => void;
}

export interface Profile {
  seed: Uint8Array | null;
  title: string;
  algorithmCode: number;
  periodCode: number;
  digits: number;
  displayTimeoutCode: number;
  clockOffsetMs: number;
  timeConfigured: number;
}

export interface Molto2ProfileState {
  profile: number;
  title: string;
  seedHex: string | null;
  algorithm: string | null;
  digits: number;
  period: number | null;
  displayTimeout: number | null;
  clock: number;
  clockOffset: number;
}

export interface Molto2SimulatorState {
  serial: string;
  model: 'token2-molto2';
  variant: Molto2Variant;
  profileCount: number;
  triesLeft: number;
  blocked: boolean;
  screenLocked: boolean;
  customerKeyIsFactory: boolean;
  authenticated: boolean;
  /** Profiles that hold a seed or were configured; the others are factory-empty. */
  profiles: Molto2ProfileState[];
  commands: number;
  lastCommand: string | null;
  lastStatus: string | null;
}

export function blankProfile(offsetMs: number): Profile {
  return {
    seed: null,
    title: '',
    algorithmCode: 1,
    periodCode: 0x1e,
    digits: 6,
    displayTimeoutCode: 1,
    clockOffsetMs: offsetMs,
    timeConfigured: 0,
  };
}

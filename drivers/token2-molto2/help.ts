/** What the `device` and `simulate` help says of the Molto2 (src/cli/commands/device-help.ts assembles it). */
import type { FamilyHelp, FamilySimulator } from '../family.js';

export const MOLTO2_HELP: FamilyHelp = {
  label: 'Molto2',
  devices: [{ via: 'a PC/SC reader', what: 'Token2 Molto2' }],
  verbs: {
    flash: {
      what: 'on a Molto2, to one profile',
      notes: { '--digits': 'a Molto2 profile 4, 6, 8 or 10' },
      examples: ['tokensmith device flash --reader Molto2 --profile 3 --title VPN --yes'],
    },
    sync: { examples: ['tokensmith device sync --reader Molto2 --all-profiles'] },
    profiles: {
      what: 'a Molto2: its profiles, with title, algorithm, digits, time step, seed present',
      examples: ['tokensmith device profiles --reader Molto2 --json'],
    },
    erase: {
      what: 'a Molto2: one profile, --profile',
      examples: ['tokensmith device erase --profile 3 --yes'],
    },
  },
};

/** The simulator's option texts, for `simulate --help`. */
export const MOLTO2_SIMULATOR_HELP: Pick<FamilySimulator, 'optionHelp'> = {
  optionHelp: {
    customerKey: 'the customer key it holds (default: the factory key)',
    variant: 'molto2 (50 profiles) or molto2v2 (100, the default)',
  },
};

/** What the `device` and `simulate` help says of Protectimus tokens (src/cli/commands/device-help.ts assembles it). */
import type { FamilyHelp, FamilySimulator } from '../family.js';

export const PROTECTIMUS_HELP: FamilyHelp = {
  label: 'Protectimus',
  devices: [{ via: 'a PC/SC reader', what: 'Protectimus Slim NFC and Flex' }],
  verbs: { verify: { notes: { '--code': 'a Protectimus tells its own' } } },
};

/** The simulator's option texts, for `simulate --help`. */
export const PROTECTIMUS_SIMULATOR_HELP: Pick<FamilySimulator, 'optionHelp'> = {
  optionHelp: { period: 'the time step it already has: 30 (default) or 60' },
};

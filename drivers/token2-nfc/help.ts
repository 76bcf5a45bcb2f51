/** What the `device` and `simulate` help says of Token2 NFC tokens (src/cli/commands/device-help.ts assembles it). */
import type { FamilyHelp, FamilySimulator } from '../family.js';

export const TOKEN2_NFC_HELP: FamilyHelp = {
  label: 'Token2 NFC',
  devices: [{ via: 'a PC/SC reader', what: 'Token2 NFC cards and fobs' }],
  verbs: {
    flash: {
      takes: ['--batch'],
      notes: { '--digits': 'Token2 NFC tokens show 6 digits' },
      examples: ['tokensmith device flash --reader ACR122 --algorithm sha256 --period 60 --display-timeout 60 --yes'],
    },
    sync: {
      takes: ['--algorithm', '--period', '--display-timeout'],
      notes: { '--algorithm': 'a C302-i', '--period': 'a C302-i' },
    },
  },
};

/** The simulator's option texts and example, for `simulate --help`. */
export const TOKEN2_NFC_SIMULATOR_HELP: Pick<FamilySimulator, 'optionHelp' | 'example'> = {
  optionHelp: {
    algorithm: 'the algorithm it already has: sha1 (default) or sha256',
    period: 'the time step it already has: 30 (default) or 60',
    locked: 'a locked key: every authentication answers 6983',
  },
  example: [
    'tokensmith simulate token2-card --vpcd --serial 86596220000042 --state s.json &',
    'tokensmith device flash --reader "Virtual PCD" --algorithm sha256 --period 60 --yes',
  ],
};

/** The token2-molto2 family's provision code: its verbs, and the station's flash of one profile. */
import { UsageError } from '../../../core/errors.js';
import type { FlashForm, ProvisionFamily } from '../contract.js';
import { MOLTO2_COMMANDS } from './commands.js';
import { molto2Verbs } from './verbs.js';

async function flasher(form: FlashForm) {
  const { molto2Flasher, parseProfileFlashInput } = await import('./profiles.js');
  return molto2Flasher(parseProfileFlashInput({ ...form }));
}

export const molto2: ProvisionFamily = {
  name: 'token2-molto2',
  verbs: molto2Verbs,
  commands: MOLTO2_COMMANDS,
  station: {
    fields: [
      { name: 'profile', label: 'Profile', hint: 'The Molto2 profile to write: 0-99 (0-49 on a first Molto2).' },
      { name: 'title', label: 'Title (optional)', hint: 'Up to 12 bytes, shown on the display.' },
      { name: 'customerKey', label: 'Customer key (optional)', hint: 'Empty: the factory key. Never logged.' },
    ],
    digits: [4, 6, 8, 10],
    flasher,
    // A form without a model writes a Molto2 only when it names the profile.
    asked: (form) => form.profile !== undefined,
    notAsked: (readerName) =>
      new UsageError(
        `the token on "${readerName}" is a Molto2: choose the model token2-molto2 and the profile to write`,
        'profile-needed',
      ),
  },
};

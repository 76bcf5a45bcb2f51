/** The token2-nfc family's provision code: its verbs, and the station's flash of its cards. */
import { UsageError } from '../../../core/errors.js';
import { TOKEN2_PRODUCTS } from '../../../../drivers/token2-nfc/protocol.js';
import type { FlashForm, ProvisionFamily } from '../contract.js';
import { flashSettings, token2NfcVerbs } from './verbs.js';

async function flasher(form: FlashForm) {
  if (form.digits !== undefined && Number(form.digits) !== 6)
    throw new UsageError(`digits: Token2 NFC tokens show 6 digits; ${form.digits} is not possible`, 'bad-digits');
  const { parseFlashInput, token2Flasher } = await import('./flash.js');
  return token2Flasher(parseFlashInput({ ...form }));
}

export const token2Nfc: ProvisionFamily = {
  name: 'token2-nfc',
  verbs: token2NfcVerbs,
  station: {
    flasher,
    products: (model) => TOKEN2_PRODUCTS.filter((p) => p.model === model).map((p) => p.product),
  },
  batch: { loop: 'flasher', users: true, what: 'Token2 NFC tokens, one seed each', settings: flashSettings },
  // Loaded only when the demo runs.
  demo: async () => (await import('./demo.js')).flashDemo,
};

/** This family in the station page: a token on a bridge reader is detected and read with the driver in the page. */
import type { PageFamily } from '../family.js';
import { detectToken2Nfc } from './detect.js';
import { Token2Driver } from './driver.js';

export const token2NfcPage: PageFamily = {
  name: 'token2-nfc',
  reader: {
    detect: detectToken2Nfc,
    async readInfo(t) {
      const info = await new Token2Driver(t).readInfo();
      const sign = info.offset >= 0 ? '+' : '';
      return {
        serial: info.serial,
        text:
          `${info.product ?? info.model} ${info.serial} on ${t.readerName}. ` +
          `Its clock is ${sign}${info.offset} s from this computer's.` +
          (info.wipesSeedOnConfig ? ' Setting its clock wipes its seed.' : ''),
      };
    },
  },
};

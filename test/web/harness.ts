/** Bundled by test/web/transports.test.ts with esbuild and loaded into a Chromium page as window.T. */
export { Token2Driver } from '../../drivers/token2-nfc/driver.js';
export { Sm4 } from '../../src/core/sm4.js';
export {
  WebHidReportTransport,
  webHidSupport,
  toNodeHidWrite,
  fromNodeHidWrite,
  fromNodeHidRead,
  toNodeHidRead,
  FIDO_USAGE_PAGE,
} from '../../src/transport/web/webhid.js';
export { scanTag, tokenSerialFromTag, webNfcSupport, WEB_NFC_LIMIT } from '../../src/transport/web/webnfc.js';
export { bridgeSupport } from '../../src/transport/web/bridge.js';

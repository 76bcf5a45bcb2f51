/**
 * The families whose code runs in the station page (the browser bundle):
 * the page's one list, as drivers/registry.ts is the Node side's. Each entry
 * is the family's drivers/<family>/page.ts; nothing here may import Node
 * modules or simulators (scripts/build-web.mjs fails the build if one does).
 * Order: a family whose tokens also answer another's probe goes first.
 */
import type { PageFamily, PageTokenInfo } from './family.js';
import type { ApduTransport } from '../src/transport/types.js';
import { token2NfcPage } from './token2-nfc/page.js';
import { yubikeyPage } from './yubikey/page.js';

export const PAGE_FAMILIES: readonly PageFamily[] = [token2NfcPage, yubikeyPage];

/** The token on `transport`, read by the first page family whose probe knows it; none is an error naming those tried. */
export async function readTokenInPage(
  transport: ApduTransport,
  list: readonly PageFamily[] = PAGE_FAMILIES,
): Promise<PageTokenInfo & { family: string }> {
  const tried: string[] = [];
  const failed: string[] = [];
  for (const f of list) {
    if (!f.reader) continue;
    // A probe that fails says "not this family" (its error is kept for the answer); a removed card is the caller's to report.
    const model = await f.reader.detect(transport).catch((e: { code?: string; message?: string }) => {
      if (e?.code === 'card-removed') throw e;
      failed.push(`${f.name}: ${e?.message ?? String(e)}`);
      return null;
    });
    if (model) return { family: f.name, ...(await f.reader.readInfo(transport)) };
    tried.push(f.name);
  }
  const why = failed.length ? `; the probes failed with ${failed.join('; ')}` : '';
  throw new Error(
    `no family this page reads knows the token on "${transport.readerName}" (tried ${tried.join(', ') || 'none'}${why}); \`tokensmith device info\` on this computer tries every family`,
  );
}

/** The families whose USB HID tokens the page programs over WebHID. */
export function webHidFamilies(list: readonly PageFamily[] = PAGE_FAMILIES): string[] {
  return list.filter((f) => f.webHid?.programs).map((f) => f.name);
}

/** Why the page offers no WebHID control, from the families that say why theirs cannot be reached. */
export function noWebHidFamily(list: readonly PageFamily[] = PAGE_FAMILIES): string {
  const whys = list.flatMap((f) => (f.webHid && !f.webHid.programs ? [f.webHid.why] : []));
  const head = 'No token family of this build is programmed over WebHID';
  return whys.length ? `${head}: ${whys.join(' ')}` : `${head}.`;
}

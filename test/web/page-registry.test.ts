/**
 * The station page's family table (drivers/page-registry.ts): a token on a
 * bridge reader is read by the first family whose probe knows it, with the
 * words the page shows; a token no page family knows, and a card pulled
 * during the probe, fail in words; the WebHID line comes from the families.
 * Runs in Node over memory transports: the same code the bundle runs.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_FAMILIES, noWebHidFamily, readTokenInPage, webHidFamilies } from '../../drivers/page-registry.js';
import type { PageFamily } from '../../drivers/family.js';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { Molto2Simulator } from '../../drivers/token2-molto2/simulator.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { NO_WEBHID_FAMILY, WEBHID_FAMILIES } from '../../src/web/client/webhid-families.js';

describe('page families', () => {
  it('reads a simulated NFC card with the family that knows it, in the page words', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042', clockOffset: -90 });
    const info = await readTokenInPage(new MemoryTransport(sim, { readerName: 'Virtual PCD 00 00' }));
    expect(info.serial).toBe('86596220000042');
    expect(info.text).toMatch(/^OTPC-P2-i 86596220000042 on Virtual PCD 00 00\. Its clock is -9\d s from/);
    expect(PAGE_FAMILIES.map((f) => f.name)).toContain(info.family);
  });

  it('skips a family whose probe does not know the token, and names those tried when none does', async () => {
    const never: PageFamily = {
      name: 'never',
      reader: { detect: async () => null, readInfo: () => Promise.reject(new Error('not called')) },
    };
    const sim = new Token2Simulator({ model: 'token2-fob' });
    const read = await readTokenInPage(new MemoryTransport(sim), [never, ...PAGE_FAMILIES]);
    expect(read.family).not.toBe('never');
    await expect(readTokenInPage(new MemoryTransport(new Molto2Simulator({})), [never])).rejects.toThrow(
      /no family this page reads knows the token .*tried never/,
    );
  });

  it('a probe that fails (the bridge timed out) gives its reason in the answer, not only "no family knows it"', async () => {
    const stalled: PageFamily = {
      name: 'stalled',
      reader: {
        detect: () => Promise.reject(new Error('the bridge did not answer within 10 s')),
        readInfo: () => Promise.reject(new Error('not called')),
      },
    };
    await expect(readTokenInPage(new MemoryTransport(new Molto2Simulator({})), [stalled])).rejects.toThrow(
      /tried stalled; the probes failed with stalled: the bridge did not answer within 10 s/,
    );
  });

  it('a card pulled during the probe is reported as such, not as an unknown token', async () => {
    const sim = new Token2Simulator({ model: 'token2-card' });
    const t = new MemoryTransport(sim, { removeBeforeCommand: 1 });
    await expect(readTokenInPage(t)).rejects.toMatchObject({ code: 'card-removed' });
  });

  it('the WebHID line is built from what the families say', () => {
    expect(WEBHID_FAMILIES).toEqual(webHidFamilies());
    expect(NO_WEBHID_FAMILY).toBe(noWebHidFamily());
    expect(NO_WEBHID_FAMILY).toMatch(/^No token family of this build is programmed over WebHID/);
    const blocked: PageFamily = { name: 'b', webHid: { programs: false, why: 'B keys are blocked.' } };
    const usable: PageFamily = { name: 'u', webHid: { programs: true } };
    expect(noWebHidFamily([blocked])).toBe(
      'No token family of this build is programmed over WebHID: B keys are blocked.',
    );
    expect(noWebHidFamily([])).toBe('No token family of this build is programmed over WebHID.');
    expect(webHidFamilies([blocked, usable])).toEqual(['u']);
  });
});

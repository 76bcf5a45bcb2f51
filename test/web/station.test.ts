// @module-tag daemon
/**
 * The station in headless Chromium over the real PC/SC stack: `tokensmith
 * serve` (built CLI) -> its bridge -> nfc-pcsc -> pcscd -> vpcd -> `tokensmith
 * simulate`. The page reads the card with the driver running in the page,
 * the server flashes the reader the page chose, and the store and the
 * simulated card agree.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, assertBuilt, cliEnv, tokensmith } from '../cli/helpers.js';
import { SCREENSHOTS, chromiumMissing, launchChromium, type LaunchedBrowser } from './browser.js';
import { ensurePcscd, lockVpcd, pcscMissing } from '../helpers/pcsc.js';
import { simulate } from './pcsc-stack.js';
import { startServe, tabOrder, unnamedControls, type Served } from './serve.js';
import { DETECTION_PROBES } from '../helpers/simulator.js';

const missing = chromiumMissing() ?? pcscMissing('the browser flash test');
const SERIAL = '86596220000042';

describe.skipIf(missing !== null)(
  `station page in Chromium through the bridge${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-station-'));
    const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
    const env = cliEnv(vars);
    let unlock: () => void = () => {};
    let stopPcscd: () => Promise<void> = async () => {};
    let served: Served;
    let browser: LaunchedBrowser;
    let page: Page;

    beforeAll(async () => {
      assertBuilt();
      unlock = await lockVpcd();
      stopPcscd = await ensurePcscd();
      expect((await tokensmith(['resource', 'create', 'corp'], vars)).code).toBe(0);
      served = await startServe(env, ['--operator', 'station-test']);
      browser = await launchChromium();
      page = await browser.context.newPage();
    });

    afterAll(async () => {
      await browser?.close();
      await served?.stop();
      await stopPcscd();
      unlock();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads a simulated card with the driver in the page, flashes it through the bridge; the store holds the seed the card holds', async () => {
      const sim = await simulate(BIN, env, join(dir, 'card.json'), ['--serial', SERIAL]);
      try {
        await page.goto(served.url);
        // The pairing code was traded for a session and cleaned from the address bar.
        expect(page.url()).toBe(`${served.origin}/`);
        await expect
          .poll(() => page.locator('#reader option').allTextContents(), { timeout: 15_000 })
          .toContainEqual(expect.stringMatching(/Virtual PCD.*token on it/));
        await page.click('#read-token');
        await expect
          .poll(() => page.textContent('#token-info'), { timeout: 15_000 })
          .toMatch(new RegExp(`OTPC-P2-i ${SERIAL} on Virtual PCD`));

        await page.selectOption('#algorithm', 'sha256');
        await page.selectOption('#period', '60');
        await page.selectOption('#displayTimeout', '60');
        // Submit with the keyboard: focus the last checkbox, Tab to the button, Enter.
        await page.focus('#batch');
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('flash');
        await page.keyboard.press('Enter');
        await expect
          .poll(() => page.textContent('#status'), { timeout: 30_000 })
          .toMatch(new RegExp(`Flashed OTPC-P2-i ${SERIAL}: now programmed`));
        await expect
          .poll(() => page.locator(`#inventory-rows tr[data-serial="${SERIAL}"] td`).allTextContents())
          .toEqual(expect.arrayContaining([SERIAL, 'programmed', 'sha256/60s']));
        await page.screenshot({ path: join(SCREENSHOTS, 'station.png'), fullPage: true });

        const card = sim.state();
        expect(card).toMatchObject({ algorithm: 'sha256', period: 60, displayTimeout: 60, authFailures: 0 });
        const show = await tokensmith(['tokens', 'show', SERIAL, '--json', '--show-secret'], vars);
        expect(show.code, show.stderr).toBe(0);
        expect(JSON.parse(show.stdout)).toMatchObject({
          serial: SERIAL,
          state: 'programmed',
          kind: 'programmable',
          model: 'OTPC-P2-i',
          algorithm: 'sha256',
          period: 60,
          secret: card.seed,
        });
        const audit = JSON.parse((await tokensmith(['audit', 'list', '--json'], vars)).stdout) as {
          action: string;
          subject: string;
          actor: string;
          details: Record<string, unknown>;
        }[];
        const row = audit.find((a) => a.action === 'token.flash' && a.subject === `token:${SERIAL}`);
        expect(row?.details).toMatchObject({ reader: 'Virtual PCD 00 00', algorithm: 'sha256', period: 60 });
        expect(row?.actor).toBe('station:station-test');
      } finally {
        await sim.stop();
      }
    });

    it('batch mode flashes each card put on the reader, skips one the store already holds, and lists each outcome live', async () => {
      await page.check('#batch');
      await page.selectOption('#resource', 'corp');
      await page.selectOption('#algorithm', 'sha1');
      await page.selectOption('#period', '30');
      try {
        // Two cards one after the other (serials counting up); each leaves the reader once written.
        const two = await simulate(BIN, env, join(dir, 'batch.json'), ['--serial', '86596220000050', '--cards', '2']);
        try {
          await page.click('#flash');
          await expect
            .poll(() => page.locator('#batch-list li[data-outcome="flashed"]').allTextContents(), { timeout: 45_000 })
            .toEqual(expect.arrayContaining(['flashed 86596220000050', 'flashed 86596220000051']));
        } finally {
          await two.stop();
        }
        // The first card again: the store holds its seed, so the batch skips it and writes nothing.
        const again = await simulate(BIN, env, join(dir, 'again.json'), ['--serial', '86596220000050']);
        try {
          await expect
            .poll(() => page.locator('#batch-list li[data-outcome="skipped"]').allTextContents(), { timeout: 30_000 })
            .toEqual([
              expect.stringMatching(/^skipped: refused: token 86596220000050 is in the store with a seed.*--force/),
            ]);
          expect(again.state()).toMatchObject({ seedHex: null });
          // Named here, so a failure says what went wrong with which card.
          const failed = await page.locator('#batch-list li[data-outcome="failed"]').allTextContents();
          expect(failed, `the two cards' simulator said:\n${two.log()}\nthe third's:\n${again.log()}`).toEqual([]);
          await page.click('#stop');
          await expect
            .poll(() => page.textContent('#status'), { timeout: 15_000 })
            .toBe('Batch stopped: 2 flashed, 1 skipped, 0 failed, 0 cancelled.');
        } finally {
          await again.stop();
        }
        await page.screenshot({ path: join(SCREENSHOTS, 'station-batch.png'), fullPage: true });
      } finally {
        // A failure above must not leave the batch running into the next test.
        if (await page.isEnabled('#stop')) {
          await page.click('#stop');
          await expect.poll(() => page.isEnabled('#flash'), { timeout: 15_000 }).toBe(true);
        }
        await page.uncheck('#batch');
        await page.selectOption('#resource', '');
      }
      for (const serial of ['86596220000050', '86596220000051']) {
        const t = JSON.parse((await tokensmith(['tokens', 'show', serial, '--json'], vars)).stdout);
        expect(t).toMatchObject({ state: 'programmed', algorithm: 'sha1', period: 30, resource: 'corp' });
      }
    });

    it('a card pulled mid-flash: the service sees the loss on its reader, says what the card now holds and audits it', async () => {
      // Command 5 of the flash is the challenge after the config write; the family probes come first.
      const sim = await simulate(BIN, env, join(dir, 'pulled.json'), [
        '--serial',
        '86596220000055',
        '--pull-at',
        String(DETECTION_PROBES + 5),
      ]);
      try {
        await page.click('#flash');
        await expect
          .poll(() => page.textContent('#status'), { timeout: 30_000 })
          .toMatch(/^Flash failed: .*Config written, seed not written: .*seed may be wiped/);
        expect((await tokensmith(['tokens', 'show', '86596220000055'], vars)).code).toBe(4);
        const audit = JSON.parse((await tokensmith(['audit', 'list', '--json'], vars)).stdout) as {
          action: string;
          subject: string;
          details: Record<string, unknown>;
        }[];
        expect(
          audit.find((a) => a.action === 'token.flash-failed' && a.subject === 'token:86596220000055')?.details,
        ).toMatchObject({
          configWritten: true,
          seedWritten: false,
          error: 'card-removed',
          reader: 'Virtual PCD 00 00',
        });
      } finally {
        await sim.stop();
      }
    });

    it('imports a dropped seed file; asks for the password of an encrypted one', async () => {
      // RFC 6030 figure 7: PBKDF2 with the RFC's password "qwerty" (a labelled test seed).
      const file = join(ROOT, 'fixtures/seedfiles/rfc6030/figure7.xml');
      await page.evaluate(
        ({ name, b64 }) => {
          const dt = new DataTransfer();
          dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'text/xml' }));
          document
            .getElementById('drop-zone')!
            .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        { name: 'figure7.xml', b64: readFileSync(file).toString('base64') },
      );
      await expect
        .poll(() => page.textContent('#import-result'))
        .toMatch(/figure7.xml: the file is encrypted with a password/);
      expect(await page.isVisible('#import-password')).toBe(true);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('import-password');
      await page.keyboard.type('qwerty');
      await page.keyboard.press('Enter');
      await expect
        .poll(() => page.textContent('#import-result'))
        .toMatch(/^figure7.xml \(pskc\): 1 imported, 0 skipped, batch \d+\.$/);
      expect(await page.isVisible('#import-password')).toBe(false);
      await expect.poll(() => page.locator('#inventory-rows tr[data-serial="987654321"]').count()).toBe(1);
      expect(
        JSON.parse((await tokensmith(['tokens', 'show', '987654321', '--json', '--show-secret'], vars)).stdout),
      ).toMatchObject({
        kind: 'classic',
        state: 'in_stock',
        secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      });
    });

    it('every control has a name, and Tab walks the flash form in order', async () => {
      expect(await unnamedControls(page)).toEqual([]);
      await page.focus('#model');
      expect(await tabOrder(page, 12)).toEqual([
        'algorithm',
        'period',
        'digits',
        'displayTimeout',
        'seed',
        'resource',
        'user',
        'force',
        'entra-activate',
        'batch',
        'flash',
        'search',
      ]);
    });

    it("a model's family gives the form its extra fields and digit counts (a Molto2: the profile, 4 to 10 digits)", async () => {
      const digits = () =>
        page.locator('#digits option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      await page.selectOption('#model', 'token2-molto2');
      expect(await page.isVisible('#profile')).toBe(true);
      expect(await page.isVisible('#customerKey')).toBe(true);
      expect(await digits()).toEqual(['4', '6', '8', '10']);
      await page.selectOption('#model', '');
      expect(await page.isVisible('#profile')).toBe(false);
      expect(await digits()).toEqual(['6']);
    });

    it('searches and filters the inventory', async () => {
      await page.fill('#search', '0000042');
      await expect.poll(() => page.locator('#inventory-rows tr').count()).toBe(1);
      await page.fill('#search', '000005');
      await expect.poll(() => page.locator('#inventory-rows tr').count()).toBe(2);
      await page.fill('#search', 'no-such-token');
      await expect.poll(() => page.textContent('#inventory-rows')).toBe('No tokens match.');
      await page.fill('#search', '');
      await page.selectOption('#state-filter', 'enrolled');
      await expect.poll(() => page.textContent('#inventory-rows')).toBe('No tokens match.');
      await page.selectOption('#state-filter', 'programmed');
      await expect.poll(() => page.locator(`#inventory-rows tr[data-serial="${SERIAL}"]`).count()).toBe(1);
    });
  },
);

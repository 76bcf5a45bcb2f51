/** What the console's browser tests share: axe-core injected into a page, and codes away from a step's edge. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core on the page as it is. The page's Content-Security-Policy forbids inline scripts, so
 * the source is evaluated through the debugging protocol (as a test harness would), not as a <script>.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } })
      .axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return result as AxeViolation[];
}

/** The serious and critical violations, as "rule: help (where)" lines. */
export async function seriousViolations(page: Page): Promise<string[]> {
  return (await axeViolations(page))
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Waits until at least `margin` seconds remain in the current 30 s step, so codes computed now stay valid. */
export async function awayFromStepEdge(margin = 6, period = 30): Promise<void> {
  const left = period - ((Date.now() / 1000) % period);
  if (left < margin) await new Promise((r) => setTimeout(r, left * 1000 + 200));
}

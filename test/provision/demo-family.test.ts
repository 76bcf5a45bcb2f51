/**
 * `tokensmith demo` names no family: its flash step is the `demo` of the
 * first family in the provision table that gives one, placed after the
 * import step, and the whole demo still runs in memory to the end.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_STEPS, demoSteps, runDemo } from '../../src/provision/demo.js';
import { provisionFamilies } from '../../src/provision/families/index.js';

describe('demo: the flash step comes from the family table', () => {
  it('inserts the first family demo step after the import step', async () => {
    const family = (await provisionFamilies()).find((f) => f.demo);
    expect(family, 'some built-in family gives the demo its flash step').toBeDefined();
    const step = await family!.demo!();
    const steps = await demoSteps();
    expect(steps).toHaveLength(DEMO_STEPS.length + 1);
    const at = steps.indexOf(step);
    expect(at).toBeGreaterThan(0);
    expect(steps[at - 1]!.title).toMatch(/^Import a sample seed file/);
    expect(DEMO_STEPS).not.toContain(step);
  });

  it('runs every step, the family flash included, and the flashed token is assigned', async () => {
    const lines: string[] = [];
    const r = await runDemo({ say: (l) => lines.push(l) });
    expect(r.steps.every((s) => s.ok)).toBe(true);
    expect(r.steps).toHaveLength((await demoSteps()).length);
    const flashed = r.steps.find((s) => s.lines.some((l) => l.startsWith('device flash:')));
    expect(flashed, 'a step flashed a simulated token').toBeDefined();
    const serial = /the store has token (\S+):/.exec(flashed!.lines.join('\n'))?.[1];
    expect(serial).toBeTruthy();
    expect(lines.join('\n')).toMatch(new RegExp(`token ${serial} assigned to \\w+`));
  });
});

/**
 * The test tiers stay true: every tier tag is one vitest knows, every file that
 * uses a browser, PC/SC or a station server is a daemon test (tagged or under
 * test/e2e), and the unit tier leaves those out. Starting a process in the unit
 * tier throws (test/helpers/unit-guard.ts), which keeps the subprocess tags true.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declaredTags, needsDaemon, nonUnitFiles, testFiles, TIER_TAGS } from '../helpers/tiers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('test tiers', () => {
  const files = testFiles(ROOT);

  it('tags are tier tags', () => {
    const unknown = files.flatMap((f) =>
      declaredTags(ROOT, f)
        .filter((t) => !(TIER_TAGS as readonly string[]).includes(t))
        .map((t) => `${f}: ${t}`),
    );
    expect(unknown).toEqual([]);
  });

  it('files that use a browser, PC/SC or a station server are daemon tests', () => {
    const untagged = files.filter(
      (f) => !f.startsWith('test/e2e/') && needsDaemon(ROOT, f) && !declaredTags(ROOT, f).includes('daemon'),
    );
    expect(untagged).toEqual([]);
  });

  it('the unit tier leaves out every tagged file and test/e2e, and keeps the rest', () => {
    const left = new Set(nonUnitFiles(ROOT));
    expect(left.has('test/e2e/pcsc.test.ts')).toBe(true);
    expect(left.has('test/web/station.test.ts')).toBe(true);
    expect(left.has('test/meta/tiers.test.ts')).toBe(false);
    for (const f of files) expect(left.has(f), f).toBe(f.startsWith('test/e2e/') || declaredTags(ROOT, f).length > 0);
  });
});

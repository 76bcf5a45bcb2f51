/**
 * The Node versions package.json promises must be ones every installed
 * package accepts: a dependency that wants a newer Node breaks the promise.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The part of npm's own `semver` (in node_modules through npm's tree, no types shipped) that this test uses. */
interface SemverApi {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string | { version: string }, range: string): boolean;
}
const semver = createRequire(import.meta.url)('semver') as SemverApi;

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(ROOT + file, 'utf8')) as T;
}

describe('Node engines', () => {
  const pkg = readJson<{ engines: { node: string } }>('package.json');
  const lock = readJson<{ packages: Record<string, LockEntry> }>('package-lock.json');
  const minimum = semver.minVersion(pkg.engines.node);

  it('package.json declares a minimum Node that the running Node meets', () => {
    expect(minimum).not.toBeNull();
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
    expect(lock.packages['']?.engines).toEqual(pkg.engines);
  });

  it("every package in package-lock.json admits the project's minimum Node", () => {
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (path === '' || !range) continue;
      if (!semver.satisfies(minimum!, range)) refusing.push(`${path}@${entry.version ?? '?'} wants node ${range}`);
    }
    expect(refusing, `these packages refuse Node ${minimum!.version}`).toEqual([]);
  });
});

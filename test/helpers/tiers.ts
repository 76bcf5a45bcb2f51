/**
 * Test tiers. A test file that needs more than Node itself says so with a
 * vitest module tag on its own line (`// @module-tag daemon`):
 * - `daemon`: PC/SC (pcscd + vpcd), a browser, or a spawned server;
 * - `subprocess`: spawns the built CLI or a reference tool (needs `npm run build`);
 * - `postgres`: needs PostgreSQL and nothing else runs without it.
 * Files under test/e2e are daemon tests without a tag. `npm run test:unit` runs the
 * files with none of these tags, with a setup file that makes starting a process
 * throw (test/helpers/unit-guard.ts), and PostgreSQL variants skip; `npm test` runs
 * them all. `needsDaemon` follows a file's imports (within test/) so
 * test/meta/tiers.test.ts can check that daemon users carry the tag.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const TIER_TAGS = ['daemon', 'subprocess', 'postgres'] as const;
export type TierTag = (typeof TIER_TAGS)[number];

/** Calls that make a module (or anything it imports) a daemon test: a browser, PC/SC, or a spawned station server. */
const DAEMON_USES = /\b(?:lockVpcd|ensurePcscd|startServe|launchChromium|chromium\.launch)\(/;
/** The helpers that define those calls (their definitions are not uses), and this file. */
const DEFINERS = [
  'test/helpers/pcsc.ts',
  'test/e2e/pcsc-lock.ts',
  'test/web/serve.ts',
  'test/web/browser.ts',
  'test/helpers/tiers.ts',
];

export function testFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.test.ts')) out.push(relative(root, path));
    }
  };
  walk(join(root, 'test'));
  return out.sort();
}

/** The tags a file declares with `@module-tag` (vitest's own syntax). */
export function declaredTags(root: string, file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^\/\/ @module-tag ([\w-]+)$/gm)].map((m) => m[1]!);
}

function localImports(path: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'|import\('(\.{1,2}\/[^']+)'\)/g)) {
    const spec = (m[1] ?? m[2])!;
    const target = resolve(dirname(path), spec.replace(/\.js$/, '.ts'));
    if (target.includes('/test/') && existsSync(target)) out.push(target);
  }
  return out;
}

/** Whether a file or the test helpers it imports (src/ is not followed) use a browser, PC/SC or a station server. */
export function needsDaemon(root: string, file: string): boolean {
  const seen = new Set<string>();
  const queue = [join(root, file)];
  while (queue.length) {
    const path = queue.pop()!;
    if (seen.has(path) || DEFINERS.some((d) => path === join(root, d))) continue;
    seen.add(path);
    const text = readFileSync(path, 'utf8');
    if (DAEMON_USES.test(text)) return true;
    queue.push(...localImports(path, text));
  }
  return false;
}

/** Files the unit tier leaves out: test/e2e and every file with a tier tag. */
export function nonUnitFiles(root: string): string[] {
  return testFiles(root).filter(
    (f) => f.startsWith('test/e2e/') || declaredTags(root, f).some((t) => (TIER_TAGS as readonly string[]).includes(t)),
  );
}

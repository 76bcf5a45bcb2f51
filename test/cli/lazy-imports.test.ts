// @module-tag subprocess
/**
 * Guards the lazy-loading rule: `tokensmith --help` / `--version` must not load
 * native or heavy modules, nor the store, importers, exporters or drivers.
 * Those are imported inside action handlers (`await import(...)`). This reads
 * the static import lines; dynamic imports are the allowed way.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const HEAVY_PACKAGES = [
  'better-sqlite3',
  'nfc-pcsc',
  'node-hid',
  '@inquirer/prompts',
  'ora',
  'cbor-x',
  'nodemailer',
  'qrcode',
  '@azure/msal-node',
];
/** Folders (relative to the source root: the repo, or dist/) a start-up path must not reach statically. */
const HEAVY_DIRS = ['src/store', 'src/import', 'src/export', 'src/entra', 'src/transport', 'drivers'];
/** Modules in a heavy folder the start-up path may load: the format tables' word lists (help texts), which import nothing (checked below). */
const LIGHT_MODULES = ['src/import/formats/names', 'src/export/formats/names'];

interface StaticImport {
  specifier: string;
  line: number;
}

/** The static imports that survive compilation: `import type` and all-`type` named imports are erased. */
function staticImports(code: string): StaticImport[] {
  const out: StaticImport[] = [];
  const lineOf = (index: number) => code.slice(0, index).split('\n').length;
  const fromRe = /^[ \t]*(import|export)\s+(type\s+)?([\w*${}\s,]+?)\s+from\s+['"]([^'"]+)['"]/gm;
  for (const m of code.matchAll(fromRe)) {
    if (m[2]) continue; // import type / export type
    const clause = m[3]!.trim();
    const named = /^\{([\s\S]*)\}$/.exec(clause);
    if (named) {
      const specs = named[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (specs.length > 0 && specs.every((s) => s.startsWith('type '))) continue;
    }
    out.push({ specifier: m[4]!, line: lineOf(m.index!) });
  }
  for (const m of code.matchAll(/^[ \t]*import\s+['"]([^'"]+)['"]/gm))
    out.push({ specifier: m[1]!, line: lineOf(m.index!) });
  return out;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Why an import is forbidden on the start-up path, or null. `base` is the root that src/ and drivers/ hang from. */
function heavyReason(fromFile: string, specifier: string, base: string): string | null {
  if (specifier.startsWith('.')) {
    const target = relative(base, resolve(dirname(fromFile), specifier))
      .split('\\')
      .join('/');
    if (LIGHT_MODULES.includes(target.replace(/\.(js|ts)$/, ''))) return null;
    const dir = HEAVY_DIRS.find((d) => target === d || target.startsWith(`${d}/`));
    return dir ? `reaches ${dir}/ statically` : null;
  }
  const pkg = packageOf(specifier);
  return HEAVY_PACKAGES.includes(pkg) ? `loads ${pkg} statically` : null;
}

function resolveLocal(fromFile: string, specifier: string, ts: boolean): string | null {
  const target = resolve(dirname(fromFile), specifier);
  const candidate = ts ? target.replace(/\.js$/, '.ts') : target;
  return existsSync(candidate) ? candidate : null;
}

/** Walks static imports from `entry`, returning every forbidden edge with the chain that reaches it. */
function walk(entry: string, base: string, ts: boolean): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const queue: { file: string; chain: string[] }[] = [{ file: entry, chain: [relative(ROOT, entry)] }];
  while (queue.length > 0) {
    const { file, chain } = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imp of staticImports(readFileSync(file, 'utf8'))) {
      const why = heavyReason(file, imp.specifier, base);
      if (why) {
        problems.push(`${[...chain].join(' -> ')} (line ${imp.line}: '${imp.specifier}') ${why}`);
        continue;
      }
      if (!imp.specifier.startsWith('.')) continue;
      const next = resolveLocal(file, imp.specifier, ts);
      if (next) queue.push({ file: next, chain: [...chain, relative(ROOT, next)] });
    }
  }
  return problems;
}

describe('the parser', () => {
  it('sees value imports, skips type-only ones, and keeps line numbers', () => {
    const code = [
      "import type { Store } from '../store/types.js';",
      "import { type A, type B } from '../store/index.js';",
      "import Database from 'better-sqlite3';",
      'import {',
      '  x,',
      '  type Y,',
      "} from '../store/vault.js';",
      "export * from '../import/index.js';",
      "import 'ora';",
      "const lazy = await import('nfc-pcsc');",
    ].join('\n');
    expect(staticImports(code)).toEqual([
      { specifier: 'better-sqlite3', line: 3 },
      { specifier: '../store/vault.js', line: 4 },
      { specifier: '../import/index.js', line: 8 },
      { specifier: 'ora', line: 9 },
    ]);
  });

  it('finds the heavy imports where they belong (the check can fail)', () => {
    const store = join(ROOT, 'src/store/sqlite/store.ts');
    expect(staticImports(readFileSync(store, 'utf8')).map((i) => i.specifier)).toContain('better-sqlite3');
    const fake = join(ROOT, 'src/cli/commands/fake.ts');
    expect(heavyReason(fake, '../../store/index.js', ROOT)).toBe('reaches src/store/ statically');
    expect(heavyReason(fake, '../../../drivers/token2-nfc/driver.js', ROOT)).toBe('reaches drivers/ statically');
    expect(heavyReason(fake, '@inquirer/prompts', ROOT)).toBe('loads @inquirer/prompts statically');
    expect(heavyReason(fake, '../context.js', ROOT)).toBeNull();
    expect(heavyReason(fake, 'commander', ROOT)).toBeNull();
    expect(heavyReason(fake, '../../import/formats/names.js', ROOT)).toBeNull();
    expect(heavyReason(fake, '../../import/formats/index.js', ROOT)).toBe('reaches src/import/ statically');
  });

  it('the light modules import nothing, so loading one loads nothing else', () => {
    for (const m of LIGHT_MODULES) expect(staticImports(readFileSync(join(ROOT, `${m}.ts`), 'utf8')), m).toEqual([]);
  });
});

describe('the CLI start-up path', () => {
  it('src/cli/main.ts and src/cli/commands/*.ts import nothing heavy statically', () => {
    const files = [
      join(ROOT, 'src/cli/main.ts'),
      ...readdirSync(join(ROOT, 'src/cli/commands'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(ROOT, 'src/cli/commands', f)),
    ];
    expect(files.length).toBeGreaterThan(2);
    const problems: string[] = [];
    for (const f of files) {
      for (const imp of staticImports(readFileSync(f, 'utf8'))) {
        const why = heavyReason(f, imp.specifier, ROOT);
        if (why)
          problems.push(
            `${relative(ROOT, f)}:${imp.line} '${imp.specifier}' ${why}; use await import() inside the action`,
          );
      }
    }
    expect(problems).toEqual([]);
  });

  it('nothing reachable from src/cli/main.ts through static imports is heavy', () => {
    expect(walk(join(ROOT, 'src/cli/main.ts'), ROOT, true)).toEqual([]);
  });

  it('the built dist/src/cli/main.js (what bin/tokensmith runs) reaches nothing heavy', () => {
    const main = join(ROOT, 'dist/src/cli/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
    expect(walk(main, join(ROOT, 'dist'), false)).toEqual([]);
  });
});

/**
 * Issue 22's acceptance: no family or model name outside the family's own
 * folders (drivers/<family>/, src/provision/families/<family>/) and the
 * registries (drivers/registry.ts, src/provision/families/index.ts, and the
 * station page's drivers/page-registry.ts), tests and docs aside. The seed
 * formats named after a vendor (yubikey-csv, protectimus-csv) are formats, not
 * families: they live in the format tables' folders (src/import/formats/,
 * src/export/formats/), which are left out too. The same search as
 *   grep -rnIiE "token2|molto2|protectimus|yubikey|yubico" src drivers --include=*.ts
 * with those exclusions; each offender is listed as file:line: text.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtInFamilies } from '../../drivers/registry.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NAMES = /token2|molto2|protectimus|yubikey|yubico/i;

/** The folders of the families (and the folder two of them share), the registries, and the format tables. */
const FAMILY_FOLDERS = ['token2-nfc', 'token2-molto2', 'token2-shared', 'protectimus', 'yubikey'];
const ALLOWED_PREFIXES = [
  ...FAMILY_FOLDERS.map((f) => `drivers/${f}/`),
  ...FAMILY_FOLDERS.map((f) => `src/provision/families/${f}/`),
  'src/import/formats/',
  'src/export/formats/',
];
const REGISTRIES = ['drivers/registry.ts', 'drivers/page-registry.ts', 'src/provision/families/index.ts'];

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function allowed(file: string): boolean {
  return REGISTRIES.includes(file) || ALLOWED_PREFIXES.some((p) => file.startsWith(p));
}

/** Every line of a .ts file under src/ or drivers/ that names a family or model where the rule allows none. */
function familyNameOffenders(
  files: string[] = [...tsFiles('src'), ...tsFiles('drivers')],
  read = (f: string) => readFileSync(join(ROOT, f), 'utf8'),
): string[] {
  return files
    .filter((f) => !allowed(f))
    .flatMap((f) =>
      read(f)
        .split('\n')
        .flatMap((text, i) => (NAMES.test(text) ? [`${f}:${i + 1}: ${text.trim().slice(0, 160)}`] : [])),
    );
}

describe('family and model names stay in their folders', () => {
  it('the exclusions are the families of the registry (a renamed family cannot leave a stale exclusion)', () => {
    for (const f of builtInFamilies()) expect(FAMILY_FOLDERS, f.name).toContain(f.name);
    for (const folder of FAMILY_FOLDERS)
      expect(statSync(join(ROOT, 'drivers', folder)).isDirectory(), folder).toBe(true);
  });

  it('the search finds a name where one is (the check can fail)', () => {
    const text = () => "// the first line\nimport { Sim } from '../../drivers/token2-nfc/simulator.js';";
    expect(familyNameOffenders(['src/provision/demo.ts'], text)).toEqual([
      "src/provision/demo.ts:2: import { Sim } from '../../drivers/token2-nfc/simulator.js';",
    ]);
    expect(familyNameOffenders(['src/provision/families/contract.ts', 'drivers/family.ts'], text)).toHaveLength(2);
    const inFolders = ['drivers/token2-nfc/x.ts', 'src/provision/families/yubikey/x.ts', 'src/import/formats/x.ts'];
    expect(familyNameOffenders([...inFolders, ...REGISTRIES], text)).toEqual([]);
  });

  it('no .ts file under src/ or drivers/ outside those folders names a family or model', () => {
    expect(familyNameOffenders()).toEqual([]);
  });
});

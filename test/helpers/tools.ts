/**
 * The reference tools tests call (oathtool, pskctool, ykman, python3
 * modules ...): whether each is here, and the rule for when it is not. Outside
 * CI a test that needs a missing tool skips with the reason; with CI set the
 * same test fails, so CI never passes by skipping. TOKENSMITH_TEST_WITHOUT
 * (comma-separated tool names) makes tools count as missing, to check that rule.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** How to tell a tool is here, and the Debian package that brings it. */
const TOOLS = {
  oathtool: { bin: 'oathtool', pkg: 'oathtool' },
  pskctool: { bin: 'pskctool', pkg: 'pskctool' },
  pskc2csv: { bin: 'pskc2csv', pkg: 'python3-pskc' },
  csv2pskc: { bin: 'csv2pskc', pkg: 'python3-pskc' },
  sqlite3: { bin: 'sqlite3', pkg: 'sqlite3' },
  ykman: { bin: 'ykman', pkg: 'yubikey-manager' },
  openssl: { bin: 'openssl', pkg: 'openssl' },
  script: { bin: 'script', pkg: 'bsdutils' },
  'python3-pskc': { python: 'pskc', pkg: 'python3-pskc' },
  'python3-stdnum': { python: 'stdnum.luhn', pkg: 'python3-stdnum' },
} as const;

export type Tool = keyof typeof TOOLS;

/** The Python the tests run: Debian's, where the python3-* packages put their modules. */
export const PYTHON = '/usr/bin/python3';

/** The tool's path on PATH (or in /usr/sbin, /sbin), or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']))
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

const hidden = () =>
  (process.env.TOKENSMITH_TEST_WITHOUT ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const seen = new Map<Tool, boolean>();

function present(tool: Tool): boolean {
  if (hidden().includes(tool)) return false;
  let here = seen.get(tool);
  if (here === undefined) {
    const t = TOOLS[tool];
    here =
      'bin' in t
        ? which(t.bin) !== null
        : spawnSync(PYTHON, ['-c', `import ${t.python}`], { stdio: 'ignore' }).status === 0;
    seen.set(tool, here);
  }
  return here;
}

/** Why the tools are not all here ("oathtool is not installed (apt-get install oathtool)"), or null. */
export function toolsAbsent(...tools: Tool[]): string | null {
  const gone = tools.filter((t) => !present(t));
  if (gone.length === 0) return null;
  const pkgs = [...new Set(gone.map((t) => TOOLS[t].pkg))];
  return `${gone.join(', ')} ${gone.length === 1 ? 'is' : 'are'} not installed (apt-get install ${pkgs.join(' ')})`;
}

/**
 * Why `test` cannot run here, or null when it can. With CI set a missing tool
 * throws instead (the test file fails), as pcscMissing and skipPgReason do.
 */
export function toolsMissing(test: string, ...tools: Tool[]): string | null {
  const why = toolsAbsent(...tools);
  if (why && process.env.CI) throw new Error(`${test} must run in CI, but ${why}`);
  return why;
}

/** The title of a test or group that may be skipped: the reason shows in the report. */
export const titled = (title: string, missing: string | null): string =>
  missing ? `${title} (skipped: ${missing})` : title;

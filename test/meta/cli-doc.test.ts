/**
 * docs/cli.md names every command and every long option that `--help` shows (issue 26: "cli.md matches
 * --help"). A heading may name sibling commands together as alternatives (`tokens disable|enable|lost`).
 * The device commands are read with their families' parts (flags, own commands) added, as `device ... --help` shows them.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { addFamilyParts } from '../../src/cli/commands/device.js';

const DOC = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

/** The command paths a doc line names, with `a|b` alternatives spelled out ("device molto2 lock|unlock" → both). */
function namedPaths(doc: string): Set<string> {
  const paths = new Set<string>();
  for (const m of doc.matchAll(/`([a-z][\w-]*(?: [a-z][\w|-]*)*)/g)) {
    let prefixes = [''];
    for (const word of m[1]!.split(' '))
      prefixes = prefixes.flatMap((p) => word.split('|').map((w) => (p ? `${p} ${w}` : w)));
    for (const p of prefixes) {
      const words = p.split(' ');
      for (let i = 1; i <= words.length; i++) paths.add(words.slice(0, i).join(' '));
    }
  }
  return paths;
}

/** Every command below `cmd` with its path and long options. */
function commands(cmd: Command, path: string[] = []): { path: string; options: string[] }[] {
  return cmd.commands.flatMap((c) => {
    const p = [...path, c.name()];
    const here = { path: p.join(' '), options: c.options.map((o) => o.long).filter((l): l is string => !!l) };
    return [here, ...commands(c, p)];
  });
}

const program = buildProgram();
await addFamilyParts(program.commands.find((c) => c.name() === 'device')!);

describe('docs/cli.md against --help', () => {
  const all = commands(program);
  const named = namedPaths(DOC);

  it("reads the families' own device commands and flags", () => {
    expect(all.map((c) => c.path)).toContain('device molto2 factory-reset');
    expect(all.find((c) => c.path === 'device flash')?.options).toContain('--slot');
  });

  it('names every command', () => {
    expect(all.length).toBeGreaterThan(40);
    expect(all.map((c) => c.path).filter((p) => !named.has(p))).toEqual([]);
  });

  it('names every long option', () => {
    const missing = all.flatMap((c) => c.options.filter((o) => !DOC.includes(o)).map((o) => `${c.path} ${o}`));
    expect(missing).toEqual([]);
  });
});

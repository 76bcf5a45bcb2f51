// @module-tag subprocess
/**
 * `tokensmith help <command>` prints what `tokensmith <command> --help` prints. The parts `device` and `simulate`
 * add to themselves once chosen (their families' flags, groups and examples, loaded lazily) were missing from
 * commander's built-in help command, which shows a command's help without choosing it: `help device` had no
 * `molto2` group. Needs the build (the CLI runs from dist/).
 */
import { describe, expect, it } from 'vitest';
import { assertBuilt, runCliSync } from '../helpers/cli.js';

assertBuilt();

describe('tokensmith help <command> = tokensmith <command> --help', () => {
  it('device: the families parts too (the molto2 group, the families in the description)', () => {
    const viaHelp = runCliSync(['help', 'device']);
    const viaFlag = runCliSync(['device', '--help']);
    expect(viaHelp.code, viaHelp.stderr).toBe(0);
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(viaFlag.stdout).toMatch(/\n {2}molto2 /);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it('simulate: the per-model option texts and its example', () => {
    const viaHelp = runCliSync(['help', 'simulate']);
    const viaFlag = runCliSync(['simulate', '--help']);
    expect(viaFlag.stdout).toMatch(/Example:\n {2}tokensmith simulate /);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it('a command without lazy parts, and the program itself', () => {
    expect(runCliSync(['help', 'tokens']).stdout).toBe(runCliSync(['tokens', '--help']).stdout);
    const program = runCliSync(['--help']).stdout;
    expect(program).toMatch(/\n {2}help \[command\] +display help for command\n/);
    expect(runCliSync(['help']).stdout).toBe(program);
    expect(runCliSync(['help', '--help']).stdout).toBe(program);
  });

  it('an unknown command: the program help on stderr, as before', () => {
    const r = runCliSync(['help', 'no-such-command']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: tokensmith \[options\] \[command\]/);
  });
});

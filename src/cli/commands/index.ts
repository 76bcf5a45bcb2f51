import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerDemo } from './demo.js';
import { registerTokens } from './tokens.js';

/** Every command group, in the order `--help` lists them. Add a group: one import, one line. */
export function registerCommands(program: Command): void {
  registerTokens(program);
  registerAudit(program);
  registerDemo(program);
}

import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerDemo } from './demo.js';
import { registerEnrollment } from './enrollment.js';
import { registerExport } from './export.js';
import { registerTokens } from './tokens.js';

/** Every command group, in the order `--help` lists them. Add a group: one import, one line. */
export function registerCommands(program: Command): void {
  registerTokens(program);
  registerAudit(program);
  registerExport(program);
  registerEnrollment(program);
  registerDemo(program);
}

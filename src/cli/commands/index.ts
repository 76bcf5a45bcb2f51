import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerDb } from './db.js';
import { registerDemo } from './demo.js';
import { registerHelpCommand } from './help.js';
import { registerEnrollment } from './enrollment.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerTokens } from './tokens.js';
import { registerTokensLifecycle } from './tokens-lifecycle.js';
import { registerResource } from './resource.js';
import { registerUser } from './user.js';
import { registerDirectory } from './directory.js';
import { registerAssign } from './assign.js';
import { registerEnroll } from './enroll.js';
import { registerDevice } from './device.js';
import { registerSimulate } from './simulate.js';
import { registerCassette } from './cassette.js';
import { registerServe } from './serve.js';
import { registerPortal } from './portal.js';
import { registerEntra } from './entra.js';

/** Every command group, in the order `--help` lists them. Add a group: one import, one line. */
export function registerCommands(program: Command): void {
  registerTokens(program);
  registerTokensLifecycle(program);
  registerResource(program);
  registerUser(program);
  registerDirectory(program);
  registerAssign(program);
  registerEnroll(program);
  registerDevice(program);
  registerSimulate(program);
  registerCassette(program);
  registerImport(program);
  registerAudit(program);
  registerDb(program);
  registerExport(program);
  registerEnrollment(program);
  registerServe(program);
  registerPortal(program);
  registerEntra(program);
  registerDemo(program);
  registerHelpCommand(program);
}

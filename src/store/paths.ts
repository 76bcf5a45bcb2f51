import { homedir } from 'node:os';
import { join } from 'node:path';

/** The database the user means: --db, else TOKENSMITH_DB, else the per-user data directory. */
export function resolveDbPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.TOKENSMITH_DB) return env.TOKENSMITH_DB;
  return join(userDataDir(env), 'tokensmith.db');
}

export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'tokensmith');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'tokensmith');
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'tokensmith');
}

/** The key file that sits beside a database when TOKENSMITH_MASTER_KEY is not set. */
export function keyFilePath(dbPath: string): string {
  return `${dbPath}.key`;
}

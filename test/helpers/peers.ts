/**
 * Where other projects' test files are found. They are not committed here (see
 * fixtures/peers/<project>/ORIGIN.md): a folder `<project>/` under
 * $TOKENSMITH_PEERS_DIR, under fixtures/peers, or under shared/peers beside the
 * checkout (where CI finds them when they are provided).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The first folder `<project>` that holds `marker`, or null. */
export function peerDir(project: string, marker: string): string | null {
  const env = process.env.TOKENSMITH_PEERS_DIR;
  const candidates = [
    env && join(env, project),
    join(REPO, 'fixtures/peers', project),
    resolve(REPO, '../shared/peers', project),
    resolve(REPO, '../../shared/peers', project),
  ];
  return candidates.find((d): d is string => Boolean(d) && existsSync(join(d as string, marker))) ?? null;
}

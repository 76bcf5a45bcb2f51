/**
 * Where other projects' test files are found. They are not committed here: they
 * live in ../shared/peers beside the checkout (its README gives origin, commit
 * and licence), where CI finds them, or under fixtures/peers; with
 * $TOKENSMITH_PEERS_DIR set, only under that folder.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The first folder `<project>` that holds `marker`, or null. */
export function peerDir(project: string, marker: string): string | null {
  const env = process.env.TOKENSMITH_PEERS_DIR;
  // A folder named in the environment is the only place looked at: so a run can also be pointed at none.
  const candidates = env
    ? [join(env, project)]
    : [
        join(REPO, 'fixtures/peers', project),
        resolve(REPO, '../shared/peers', project),
        resolve(REPO, '../../shared/peers', project),
      ];
  return candidates.find((d): d is string => Boolean(d) && existsSync(join(d as string, marker))) ?? null;
}

/**
 * Why the peer table test of `project` cannot run here (null: it can). CI runs beside ../shared/peers, so
 * under CI=true missing files are a failure, not a skip: a green run never means the table did not run.
 */
export function peersMissing(project: string, marker: string): string | null {
  if (peerDir(project, marker)) return null;
  const why = `${project}'s test files are not found (looked for ${project}/${marker} in $TOKENSMITH_PEERS_DIR, fixtures/peers and ../shared/peers beside the checkout)`;
  if (process.env.CI) throw new Error(`the ${project} peer table test must run in CI, but ${why}`);
  return why;
}

/**
 * vpcd gives one machine two virtual readers on fixed ports, and pcscd is one
 * per machine; test files that use them (this one, the web station's) run in
 * parallel, so each takes this machine-wide lock for its whole run: a folder
 * holding the owner's pid (a dead owner's lock is taken over).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const VPCD_LOCK = '/tmp/tokensmith-vpcd.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function lockVpcd(timeoutMs = 180_000): Promise<() => void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(VPCD_LOCK);
      writeFileSync(join(VPCD_LOCK, 'pid'), String(process.pid));
      return () => rmSync(VPCD_LOCK, { recursive: true, force: true });
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(VPCD_LOCK, 'pid'), 'utf8'));
      } catch {
        // the owner is still writing its pid
      }
      if (owner && !alive(owner)) rmSync(VPCD_LOCK, { recursive: true, force: true });
      if (Date.now() > end) throw new Error(`${VPCD_LOCK} is held by pid ${owner} for over ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

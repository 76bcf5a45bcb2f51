/**
 * Is pcscd up? nfc-pcsc's constructor spins forever on the main thread while
 * pcscd is down, so we ask first by connecting to pcscd's socket (a leftover
 * socket file after a crash refuses the connection, so the file alone proves nothing).
 */
import { connect } from 'node:net';

export function pcscdSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';
}

export function pcscdUp(path = pcscdSocketPath(), timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Polls until pcscd answers, up to `timeoutMs`. */
export async function waitForPcscd(timeoutMs: number, path = pcscdSocketPath()): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pcscdUp(path)) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the built `tokensmith serve` as a child process and reads its link; and page checks shared by the browser tests. */
import { spawn } from 'node:child_process';
import type { Page } from 'playwright-core';
import { BIN } from '../cli/helpers.js';

export interface Served {
  url: string;
  origin: string;
  /** The pairing code in the printed link. */
  code: string;
  /** What it wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
  /** Sends SIGTERM and resolves with the milliseconds until the process exited (killed after 10 s). */
  terminate(): Promise<number>;
}

/** Trades the printed code for a session secret, as the page does (POST /api/pair with this server's Origin). */
export async function pairSession(served: Pick<Served, 'origin' | 'code'>, operator?: string): Promise<string> {
  const r = await fetch(`${served.origin}/api/pair`, {
    method: 'POST',
    headers: { origin: served.origin, 'content-type': 'application/json' },
    body: JSON.stringify({ code: served.code, operator }),
  });
  const j = (await r.json()) as { session?: string; error?: { message: string } };
  if (!r.ok || !j.session) throw new Error(`pairing failed: ${r.status} ${j.error?.message}`);
  return j.session;
}

export async function startServe(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Served> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const { url, origin } = await new Promise<{ url: string; origin: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its link: ${out} ${err}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      try {
        const j = JSON.parse(out);
        clearTimeout(timer);
        resolve(j);
      } catch {
        // not all of it yet
      }
    });
    proc.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  const terminate = () =>
    new Promise<number>((resolve) => {
      const t0 = Date.now();
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve(0);
      const hard = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => {
        clearTimeout(hard);
        resolve(Date.now() - t0);
      });
      proc.kill('SIGTERM');
    });
  return {
    url,
    origin,
    code: new URL(url).searchParams.get('pair') ?? '',
    stderr: () => err,
    terminate,
    stop: async () => {
      await terminate();
    },
  };
}

/** Every input, select, textarea and button without an accessible name (label, aria-label(ledby), or its text). */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea, button'))) {
      if ((el as HTMLInputElement).type === 'hidden' || el.closest('[hidden]')) continue;
      const labels = (el as HTMLInputElement).labels
        ? Array.from((el as HTMLInputElement).labels!)
            .map((l) => l.textContent?.trim())
            .join('')
        : '';
      const by = (el.getAttribute('aria-labelledby') ?? '')
        .split(/\s+/)
        .map((id) => document.getElementById(id)?.textContent?.trim() ?? '')
        .join('');
      const own = el.tagName === 'BUTTON' ? el.textContent?.trim() : '';
      if (!labels && !by && !el.getAttribute('aria-label')?.trim() && !own) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

/** Presses Tab `n` times from the focused element and returns the ids that got the focus. */
export async function tabOrder(page: Page, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    ids.push(await page.evaluate(() => document.activeElement?.id ?? document.activeElement?.tagName ?? ''));
  }
  return ids;
}

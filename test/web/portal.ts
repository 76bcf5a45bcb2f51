/** Starts the built `tokensmith portal` as a child process and reads its address; a small HTTP(S) client that shows headers as sent. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BIN } from '../cli/helpers.js';
import { sessionTag } from '../../src/web/portal-guard.js';

export interface PortalProcess {
  url: string;
  origin: string;
  proc: ChildProcess;
  /** The first line it wrote to stdout. */
  firstLine: string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Runs `tokensmith portal --port 0 [args]`; with json, reads {"url"} from stdout, else the first line. */
export async function startPortal(env: NodeJS.ProcessEnv, args: string[] = [], json = true): Promise<PortalProcess> {
  const proc = spawn(process.execPath, [BIN, 'portal', '--port', '0', ...(json ? ['--json'] : []), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const started = await new Promise<{ url: string; origin: string; firstLine: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`portal did not print its address: ${out} ${err}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const firstLine = out.split('\n')[0]!;
      if (!json && out.includes('\n')) {
        clearTimeout(timer);
        const url = firstLine.replace(/^tokensmith portal: /, '');
        return resolve({ url, origin: /listening on (\S+);/.exec(out)?.[1] ?? url, firstLine });
      }
      try {
        const j = JSON.parse(out) as { url: string; origin: string };
        clearTimeout(timer);
        resolve({ ...j, firstLine });
      } catch {
        // not all of it yet
      }
    });
    proc.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`portal exited ${c}: ${err}`));
    });
  });
  return {
    ...started,
    proc,
    stderr: () => err,
    stop: () =>
      new Promise<number | null>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        const hard = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', (code) => {
          clearTimeout(hard);
          resolve(code);
        });
        proc.kill('SIGTERM');
      }),
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = { error?: { message: string; code: string } }>(): T;
}

/** One request with node's http(s) (fetch hides Set-Cookie and cannot take a CA); `ca` trusts a test certificate. */
export function call(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    ca?: string | Buffer;
    agent?: import('node:http').Agent;
  } = {},
): Promise<Answer> {
  const u = new URL(url);
  const body =
    opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = {
    ...(body !== undefined && typeof opts.body !== 'string' ? { 'content-type': 'application/json' } : {}),
    ...pageSessionHeader(u.pathname, opts.headers?.cookie),
    ...opts.headers,
  };
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.agent ? { agent: opts.agent } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** An action carries the tag of the session its page was loaded with: here, the cookie's own (as the page would send). */
export function pageSessionHeader(path: string, cookie: string | undefined): Record<string, string> {
  const sid = /(?:^|;\s*)(?:__Host-)?tokensmith_portal=([^;]+)/.exec(cookie ?? '')?.[1];
  return path.includes('/actions/') && sid ? { 'x-portal-session': sessionTag(sid) } : {};
}

/** The portal session cookie from a Set-Cookie answer, as `name=value` for the Cookie header. */
export function sessionCookie(a: Answer): string | undefined {
  const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []);
  return set.find((c) => /^(__Host-)?tokensmith_portal=/.test(c))?.split(';')[0];
}

/**
 * The station page's session: it trades the printed pairing code for a
 * session secret (asking for the operator's name when serve has none), keeps
 * it in this origin's localStorage (scheme, host and port: no other local
 * service can read it) and sends it as a bearer header. No cookie: cookies
 * are shared by every port of a host.
 */
import { ApiError, field, h, say, statusLine } from './dom.js';

const SESSION_KEY = 'tokensmith-station-session';
let session = '';
let main: HTMLElement;
let onPaired: () => void = () => {};

export function sessionSecret(): string {
  return session;
}

/** The station's JSON API with the session as a bearer header. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${session}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(
    path,
    body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) },
  );
  const json = (await res.json().catch(() => ({}))) as { error?: { message: string; code: string } };
  if (res.status === 401) {
    // A secret from an earlier run of serve on this port: say so instead of a page of errors.
    localStorage.removeItem(SESSION_KEY);
    notPaired(json.error?.message ?? 'not paired');
  }
  if (!res.ok)
    throw new ApiError(
      json.error?.message ?? `${res.status} ${res.statusText}`,
      json.error?.code ?? 'failure',
      res.status,
    );
  return json as T;
}

/** Trades the printed code for a session; asks for the operator's name when serve was started without --operator. */
async function pairWith(code: string, operator?: string): Promise<void> {
  const res = await fetch('/api/pair', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, operator }),
  });
  const json = (await res.json().catch(() => ({}))) as { session?: string; error?: { message: string; code: string } };
  if (res.ok && json.session) {
    session = json.session;
    localStorage.setItem(SESSION_KEY, session);
    onPaired();
  } else if (json.error?.code === 'pairing-used' && session) {
    // The link opened again in a browser already paired with it.
    onPaired();
  } else if (json.error?.code === 'operator-needed' || json.error?.code === 'bad-operator') {
    askOperator(code, operator ? json.error.message : undefined);
  } else {
    notPaired(json.error?.message ?? `pairing failed: ${res.status}`);
  }
}

function askOperator(code: string, problem?: string): void {
  const name = h('input', {
    id: 'operator',
    name: 'operator',
    type: 'text',
    autocomplete: 'name',
    required: true,
    maxlength: 64,
  });
  const note = statusLine('pair-status');
  if (problem) say(note, problem, 'error');
  const pairForm = h(
    'form',
    { id: 'pair-form' },
    field('Your name', name, 'The audit log names you for what this page does.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'pair' }, 'Pair this page')),
    note,
  );
  pairForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void pairWith(code, name.value.trim());
  });
  main.replaceChildren(h('h1', {}, 'Pair this page with tokensmith serve'), pairForm);
  name.focus();
}

function notPaired(reason: string): void {
  main.replaceChildren(h('h1', {}, 'Not paired'), h('p', { id: 'not-paired' }, reason));
}

/** Pairs the page (the code in the address, or the secret kept from before), then calls `start`. */
export function pairPage(root: HTMLElement, start: () => void): void {
  main = root;
  onPaired = start;
  const code = new URLSearchParams(location.search).get('pair');
  // Out of the address bar and this history entry at once; the code is spent at pairing anyway.
  if (code !== null) history.replaceState(null, '', location.pathname);
  session = localStorage.getItem(SESSION_KEY) ?? '';
  if (code) void pairWith(code);
  else if (session) start();
  else
    notPaired(
      'not paired: open the link that `tokensmith serve` printed when it started (it carries the pairing code)',
    );
}

/** Small DOM helpers for the pages: elements with labels, and the JSON API. */

type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

let uid = 0;

/** A labelled control: <label for> + the control, in one row. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  if (!control.id) control.id = `f${++uid}`;
  const row = h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
  if (hint) {
    const hintEl = h('small', { id: `${control.id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    row.append(hintEl);
  }
  return row;
}

export function select(id: string, options: [value: string, text: string][], value?: string): HTMLSelectElement {
  const s = h('select', { id, name: id });
  for (const [v, t] of options) s.append(h('option', { value: v, selected: v === value }, t));
  return s;
}

export function setOptions(s: HTMLSelectElement, options: [value: string, text: string][]): void {
  const keep = s.value;
  s.replaceChildren(...options.map(([v, t]) => h('option', { value: v }, t)));
  if (options.some(([v]) => v === keep)) s.value = keep;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(
    path,
    body === undefined
      ? { credentials: 'same-origin', headers }
      : {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        },
  );
  const json = (await res.json().catch(() => ({}))) as { error?: { message: string; code: string } };
  if (!res.ok)
    throw new ApiError(
      json.error?.message ?? `${res.status} ${res.statusText}`,
      json.error?.code ?? 'failure',
      res.status,
    );
  return json as T;
}

/** A polite live region that screen readers announce. */
export function statusLine(id: string): HTMLParagraphElement {
  return h('p', { id, role: 'status', 'aria-live': 'polite', class: 'status' });
}

export function say(el: HTMLElement, text: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  el.textContent = text;
  el.dataset.kind = kind;
}

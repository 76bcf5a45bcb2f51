/**
 * What the console's pages share: a heading that takes the focus on
 * arrival, tables with captions, links between pages, errors tied to their
 * field, and CSV downloads (a GET with the session header, saved as a file).
 */
import { h, say, statusLine } from './dom.js';
import { sessionSecret } from './station-session.js';

export type Cell = string | number | Node | null;

/** The page's h1; focusable so that arriving on a page moves a screen reader and the keyboard there. */
export function heading(text: string): HTMLHeadingElement {
  return h('h1', { tabindex: -1, id: 'page-h' }, text);
}

/** A link to another console page (hash routes: #/tokens/123). */
export function pageLink(parts: string[], text: string): HTMLAnchorElement {
  return h('a', { href: `#/${parts.map(encodeURIComponent).join('/')}` }, text);
}

/** A table with a caption and column headers; an empty body says so in one row. */
export function table(
  id: string,
  caption: string,
  head: string[],
  rows: Cell[][],
  empty = 'Nothing to show.',
): HTMLTableElement {
  const body = h('tbody', {});
  for (const r of rows)
    body.append(h('tr', {}, ...r.map((c) => h('td', {}, c === null ? '' : typeof c === 'number' ? String(c) : c))));
  if (rows.length === 0) body.append(h('tr', {}, h('td', { colspan: head.length }, empty)));
  return h(
    'table',
    { id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
}

/** A list of facts: each name and its value (an em dash when there is none). */
export function facts(id: string, pairs: [string, string | null | undefined][]): HTMLDListElement {
  return h('dl', { id }, ...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v || '—')]));
}

/** A section with an h2 that names it. */
export function section(id: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { 'aria-labelledby': `${id}-h`, id }, h('h2', { id: `${id}-h` }, title), ...children);
}

/** Marks a control invalid and ties the message to it (aria-describedby), or clears both. */
export function fieldError(control: HTMLElement, message: string | null): void {
  const id = `${control.id}-error`;
  let el = document.getElementById(id);
  if (message === null) {
    control.removeAttribute('aria-invalid');
    el?.remove();
    control.setAttribute('aria-describedby', (control.getAttribute('aria-describedby') ?? '').replace(id, '').trim());
    return;
  }
  if (!el) {
    el = h('small', { id, class: 'field-error' });
    control.insertAdjacentElement('afterend', el);
  }
  el.textContent = message;
  control.setAttribute('aria-invalid', 'true');
  const by = new Set((control.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean));
  by.add(id);
  control.setAttribute('aria-describedby', [...by].join(' '));
}

/** A status line for one page section. */
export function pageStatus(id: string): HTMLParagraphElement {
  return statusLine(id);
}

export function sayError(el: HTMLElement, e: unknown): void {
  say(el, (e as Error).message, 'error');
}

/** Fetches a CSV with the session and saves it under `fileName`. */
export async function downloadCsv(path: string, fileName: string): Promise<void> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${sessionSecret()}` } });
  if (!res.ok) throw new Error(`the download failed: ${res.status} ${res.statusText}`);
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: fileName, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A button that downloads a CSV; failures are said in `status`. */
export function csvButton(
  id: string,
  label: string,
  path: () => string,
  fileName: string,
  status: HTMLElement,
): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      id,
      class: 'secondary',
      onclick: () => void downloadCsv(path(), fileName).catch((e: unknown) => sayError(status, e)),
    },
    label,
  );
}

/** The ISO time as the page shows it: date and time to the second, UTC. */
export function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

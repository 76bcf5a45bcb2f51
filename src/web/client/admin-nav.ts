/**
 * The console's navigation: one page per section (Station, Resources, Users,
 * Tokens, Audit, Reports), chosen by the address's hash (#/resources/vpn) so
 * that reload and the back button work. A page with unsaved changes is not
 * left without a warning (the link, the back button, or closing the tab).
 */
import { h } from './dom.js';

export type PageRender = (view: HTMLElement, args: string[]) => void | Promise<void>;

export interface ConsolePages {
  [section: string]: { title: string; render: PageRender };
}

const NAV_LABEL = 'Console';
let unsaved: (() => boolean) | null = null;
let current = '';

/** A page with a form says here whether it holds changes not yet saved (null when it leaves). */
export function guardUnsaved(check: (() => boolean) | null): void {
  unsaved = check;
}

export const UNSAVED_WARNING = 'This page has changes that are not saved. Leave it and lose them?';

function routeOf(hash: string): { section: string; args: string[] } {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { section: parts[0] ?? '', args: parts.slice(1) };
}

function navBar(pages: ConsolePages, section: string): HTMLElement {
  return h(
    'nav',
    { 'aria-label': NAV_LABEL, class: 'console-nav' },
    h(
      'ul',
      {},
      ...Object.entries(pages).map(([key, p]) =>
        h(
          'li',
          {},
          h(
            'a',
            { href: `#/${key}`, id: `nav-${key || 'station'}`, 'aria-current': key === section ? 'page' : undefined },
            p.title,
          ),
        ),
      ),
    ),
  );
}

/** Renders the page the hash names; `focus` moves the keyboard to its heading (not on the first load). */
async function show(root: HTMLElement, pages: ConsolePages, focus: boolean): Promise<void> {
  const { section, args } = routeOf(location.hash);
  const page = pages[section] ?? pages['']!;
  current = location.hash;
  guardUnsaved(null);
  const view = h('div', { id: 'view', 'data-page': section || 'station' });
  root.replaceChildren(navBar(pages, pages[section] ? section : ''), view);
  document.title = `${page.title}: tokensmith station`;
  await page.render(view, args);
  if (focus) (view.querySelector<HTMLElement>('h1') ?? view).focus();
}

/** Starts the console: the page for the current hash, and again on every change of it. */
export function startConsole(root: HTMLElement, pages: ConsolePages): void {
  window.addEventListener('hashchange', () => {
    if (location.hash === current) return;
    if (unsaved?.() && !confirm(UNSAVED_WARNING)) {
      // Stay: put the address back without a new history entry.
      history.replaceState(null, '', current || location.pathname);
      return;
    }
    void show(root, pages, true);
  });
  window.addEventListener('beforeunload', (ev) => {
    if (unsaved?.()) ev.preventDefault();
  });
  void show(root, pages, false);
}

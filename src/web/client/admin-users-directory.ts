/**
 * The Users page's directories: each with its linked Resources and a "Sync
 * now" that runs `directory sync` and shows its per-Resource report; a
 * refusal (the removal guard, a directory that does not answer) in words.
 */
import { h, say } from './dom.js';
import { pageStatus, sayError, section, table } from './admin-common.js';
import { api } from './station-session.js';

interface DirectoryItem {
  name: string;
  links: { resource: string; group: string; onLeave: string }[];
}

interface ResourceReport {
  resource: string;
  group: string;
  added: string[];
  updated: string[];
  disabled: string[];
  left: string[];
  unchanged: number;
  conflicts: string[];
  invalid: string[];
}

interface SyncReport {
  directory: string;
  resources: ResourceReport[];
}

const list = (xs: string[]) => (xs.length ? `${xs.length}: ${xs.join(', ')}` : '0');

function reportTable(r: SyncReport): HTMLTableElement {
  return table(
    `sync-report-${r.directory}`,
    `Sync of ${r.directory}`,
    ['Resource', 'Added', 'Updated', 'Disabled', 'Left', 'Unchanged', 'Not taken'],
    r.resources.map((x) => [
      x.resource,
      list(x.added),
      list(x.updated),
      list(x.disabled),
      list(x.left),
      x.unchanged,
      list([...x.conflicts, ...x.invalid]),
    ]),
    'No Resource is linked to this directory.',
  );
}

function directoryBlock(d: DirectoryItem, refresh: () => Promise<void>): HTMLElement {
  const status = pageStatus(`sync-status-${d.name}`);
  const report = h('div', { id: `sync-result-${d.name}` });
  const button = h('button', { type: 'button', id: `sync-${d.name}`, 'aria-label': `Sync ${d.name} now` }, 'Sync now');
  button.addEventListener('click', () => {
    button.disabled = true;
    say(status, `Syncing ${d.name}…`, 'info');
    report.replaceChildren();
    api<SyncReport>(`/api/admin/directories/${encodeURIComponent(d.name)}/sync`, {})
      .then(async (r) => {
        say(status, `Synced ${d.name}.`, 'ok');
        report.replaceChildren(reportTable(r));
        await refresh();
      })
      .catch((e: unknown) => sayError(status, e))
      .finally(() => (button.disabled = false));
  });
  const links = d.links.map((l) => `${l.resource} ← ${l.group}`).join('; ') || 'no Resource linked';
  return h(
    'div',
    { class: 'directory', id: `directory-${d.name}` },
    h('h3', {}, d.name),
    h('p', {}, links),
    button,
    status,
    report,
  );
}

/** The directories section, or null when there is none. */
export async function directoriesSection(refresh: () => Promise<void>): Promise<HTMLElement | null> {
  const ds = await api<DirectoryItem[]>('/api/admin/directories').catch(() => [] as DirectoryItem[]);
  if (ds.length === 0) return null;
  return section(
    'user-directories',
    'Directories',
    h('p', {}, 'Their users are read-only here. Sync now reads each linked group and brings its Resource up to date.'),
    ...ds.map((d) => directoryBlock(d, refresh)),
  );
}

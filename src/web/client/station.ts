/**
 * The station page: the host's readers through the bridge (the drivers of
 * drivers/page-registry.ts run here, in the page), the flash section (station-flash.ts: every family
 * of the registry, single and batch flashes run by the server's services),
 * the inventory with search and filters, and seed-file import.
 * It first trades the printed pairing code for a session (station-session.ts).
 */
import { readTokenInPage } from '../../../drivers/page-registry.js';
import { BridgeClient, bridgeSupport, type BridgeTransport } from '../../transport/web/bridge.js';
import { webHidSupport, WebHidReportTransport } from '../../transport/web/webhid.js';
import { field, h, say, select, setOptions, statusLine } from './dom.js';
import { flashSection, loadModels, resource, usersList } from './station-flash.js';
import { api, pairPage, sessionSecret } from './station-session.js';
import { startConsole } from './admin-nav.js';
import { consolePages } from './console-pages.js';
import { NO_WEBHID_FAMILY, WEBHID_FAMILIES } from './webhid-families.js';

interface TokenRow {
  serial: string;
  manufacturer: string;
  model: string | null;
  kind: string;
  state: string;
  algorithm: string;
  period: number;
  resource: string | null;
  user: string | null;
}

const STATES = ['in_stock', 'programmed', 'assigned', 'enrolled', 'disabled', 'lost', 'revoked', 'retired'];

const main = document.getElementById('main')!;
const status = statusLine('status');
let client: BridgeClient | null = null;
async function bridge(): Promise<BridgeClient> {
  if (!client) {
    client = await BridgeClient.connect(`${location.origin.replace(/^http/, 'ws')}/ws`, sessionSecret());
  }
  return client;
}

// ---- readers ----------------------------------------------------------------
const readerSelect = select('reader', []);
const tokenInfo = h('div', { id: 'token-info', 'aria-live': 'polite' });
const readersNote = h('p', { id: 'readers-note' });

async function refreshReaders(): Promise<void> {
  try {
    const readers = await (await bridge()).readers();
    setOptions(
      readerSelect,
      readers.map((r) => [r.name, `${r.name}${r.token ? ' (token on it)' : ''}`]),
    );
    readersNote.textContent =
      readers.length === 0
        ? 'No reader found: plug one in (pcscd must see it).'
        : `${readers.length} reader(s) on this computer.`;
  } catch (e) {
    readersNote.textContent = (e as Error).message;
  }
}

async function readToken(): Promise<void> {
  let t: BridgeTransport | null = null;
  try {
    t = await (await bridge()).openTransport(readerSelect.value || undefined, 10);
    // The driver itself runs in this page; the bridge only carries its APDUs.
    const info = await readTokenInPage(t);
    tokenInfo.replaceChildren(h('p', {}, info.text));
    say(status, `Read ${info.serial}.`, 'ok');
  } catch (e) {
    say(status, `Could not read the token: ${(e as Error).message}`, 'error');
  } finally {
    await t?.close();
  }
}

const hidNote = h('p', { id: 'hid-note' });
async function useHid(): Promise<void> {
  try {
    const t = await WebHidReportTransport.request([]);
    hidNote.textContent = `${t.deviceName} is open over WebHID. No HID token driver in this build programs it yet; PC/SC tokens go through the bridge.`;
    await t.close();
  } catch (e) {
    hidNote.textContent = (e as Error).message;
  }
}

// ---- flash form (station-flash.ts) -----------------------------------------------
const flash = flashSection({
  bridge,
  reader: () => readerSelect.value,
  status,
  refreshInventory: () => refreshInventory(),
});

// ---- inventory ----------------------------------------------------------------
const search = h('input', { id: 'search', type: 'search', name: 'q', autocomplete: 'off' });
const stateFilter = select('state-filter', [['', 'Any state'], ...STATES.map((s) => [s, s] as [string, string])]);
const resourceFilter = select('resource-filter', [['', 'Any Resource']]);
const inventoryBody = h('tbody', { id: 'inventory-rows' });

async function refreshInventory(): Promise<void> {
  const q = new URLSearchParams({ q: search.value, state: stateFilter.value, resource: resourceFilter.value });
  try {
    const rows = await api<TokenRow[]>(`/api/tokens?${q}`);
    inventoryBody.replaceChildren(
      ...rows.map((t) =>
        h(
          'tr',
          { 'data-serial': t.serial },
          ...[
            t.serial,
            t.manufacturer,
            t.model ?? '',
            t.kind,
            t.state,
            `${t.algorithm}/${t.period}s`,
            t.resource ?? '',
            t.user ?? '',
          ].map((c) => h('td', {}, c)),
        ),
      ),
    );
    if (rows.length === 0) inventoryBody.append(h('tr', {}, h('td', { colspan: 8 }, 'No tokens match.')));
  } catch (e) {
    say(status, `Inventory: ${(e as Error).message}`, 'error');
  }
}

async function loadResources(): Promise<void> {
  const rs = await api<{ name: string }[]>('/api/resources');
  setOptions(resource, [['', 'None'], ...rs.map((r) => [r.name, r.name] as [string, string])]);
  setOptions(resourceFilter, [['', 'Any Resource'], ...rs.map((r) => [r.name, r.name] as [string, string])]);
}

async function loadUsers(): Promise<void> {
  const us = await api<{ login: string }[]>(`/api/users?resource=${encodeURIComponent(resource.value)}`);
  usersList.replaceChildren(...us.map((u) => h('option', { value: u.login })));
}
resource.addEventListener('change', () => void loadUsers());

let searchTimer: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void refreshInventory(), 200);
});
stateFilter.addEventListener('change', () => void refreshInventory());
resourceFilter.addEventListener('change', () => void refreshInventory());

// ---- import ---------------------------------------------------------------------
const fileInput = h('input', { id: 'seed-file', type: 'file', name: 'file' });
const importPassword = h('input', { id: 'import-password', type: 'password', name: 'password', autocomplete: 'off' });
const passwordRow = field(
  'Password of the file',
  importPassword,
  'The file is encrypted; type its password and import again.',
);
passwordRow.hidden = true;
const importResource = select('import-resource', [['', 'None']]);
const importResult = h('p', { id: 'import-result', role: 'status', 'aria-live': 'polite' });
const dropZone = h(
  'div',
  { id: 'drop-zone', class: 'drop' },
  'Drop a seed file here (PSKC, CSV, DPW, otpauth), or choose it below.',
);
let dropped: File | null = null;

function base64(buf: ArrayBuffer): string {
  let s = '';
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function importFile(ev?: Event): Promise<void> {
  ev?.preventDefault();
  const file = dropped ?? fileInput.files?.[0];
  if (!file) {
    say(importResult, 'Choose a seed file first.', 'error');
    return;
  }
  try {
    const r = await api<{ batch: number; imported: number; skipped: number; failed: number; format: string }>(
      '/api/import',
      {
        fileName: file.name,
        contentBase64: base64(await file.arrayBuffer()),
        password: importPassword.value || undefined,
        resource: importResource.value || undefined,
      },
    );
    passwordRow.hidden = true;
    importPassword.value = '';
    say(
      importResult,
      `${file.name} (${r.format}): ${r.imported} imported, ${r.skipped} skipped, batch ${r.batch}.`,
      'ok',
    );
    void refreshInventory();
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'password-needed' || err.code === 'wrong-password') {
      passwordRow.hidden = false;
      importPassword.focus();
    }
    say(importResult, err.message, 'error');
  }
}
dropZone.addEventListener('dragover', (ev) => ev.preventDefault());
dropZone.addEventListener('drop', (ev) => {
  ev.preventDefault();
  dropped = ev.dataTransfer?.files[0] ?? null;
  if (dropped) {
    dropZone.textContent = `${dropped.name}: ready to import.`;
    void importFile();
  }
});
fileInput.addEventListener('change', () => (dropped = null));
const importForm = h(
  'form',
  { id: 'import-form' },
  dropZone,
  field('Seed file', fileInput),
  passwordRow,
  field('Resource for the imported tokens', importResource),
  h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'import' }, 'Import')),
  importResult,
);
importForm.addEventListener('submit', (ev) => void importFile(ev));

// ---- page -------------------------------------------------------------------------
/** The station's own page inside the console (the nav above it is admin-nav.ts). */
function render(view: HTMLElement): void {
  const hid = webHidSupport();
  // Offered only when some family can use it; otherwise one line says why not.
  const hidUsable = hid.available && WEBHID_FAMILIES.length > 0;
  const br = bridgeSupport();
  view.replaceChildren(
    h('h1', {}, 'tokensmith station'),
    status,
    h(
      'section',
      { 'aria-labelledby': 'readers-h' },
      h('h2', { id: 'readers-h' }, 'Readers'),
      br.available ? readersNote : h('p', {}, br.why!),
      field('Reader', readerSelect),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', id: 'refresh-readers', onclick: () => void refreshReaders() },
          'Refresh the readers',
        ),
        h('button', { type: 'button', id: 'read-token', onclick: () => void readToken() }, 'Read the token'),
      ),
      tokenInfo,
      hidUsable
        ? h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', id: 'use-hid', onclick: () => void useHid() },
              'Use a USB HID token (WebHID)',
            ),
          )
        : null,
      h(
        'p',
        { id: 'hid-support' },
        hidUsable
          ? `WebHID reaches ${WEBHID_FAMILIES.join(', ')} tokens.`
          : hid.available
            ? NO_WEBHID_FAMILY
            : hid.why!,
      ),
      hidNote,
    ),
    flash,
    h(
      'section',
      { 'aria-labelledby': 'inventory-h' },
      h('h2', { id: 'inventory-h' }, 'Inventory'),
      h(
        'div',
        { class: 'filters' },
        field('Search (serial, user, model)', search),
        field('State', stateFilter),
        field('Resource', resourceFilter),
      ),
      h(
        'table',
        { id: 'inventory' },
        h('caption', {}, 'Tokens in the store'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Serial', 'Manufacturer', 'Model', 'Kind', 'State', 'Algorithm', 'Resource', 'User'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        inventoryBody,
      ),
    ),
    h('section', { 'aria-labelledby': 'import-h' }, h('h2', { id: 'import-h' }, 'Import a seed file'), importForm),
  );
}

function start(): void {
  startConsole(main, consolePages(render));
  void refreshReaders();
  void refreshInventory();
  loadModels().catch((e: Error) => say(status, `Models: ${e.message}`, 'error'));
  void loadResources()
    .then(() => {
      setOptions(
        importResource,
        Array.from(resource.options).map((o) => [o.value, o.text]),
      );
      return loadUsers();
    })
    .catch((e: Error) => say(status, e.message, 'error'));
}

pairPage(main, start);

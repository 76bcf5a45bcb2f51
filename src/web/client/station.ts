/**
 * The station page: the host's readers through the bridge (the Token2 driver
 * runs here, in the page), flashing through the server's flash service (the
 * same one as `tokensmith device flash`, same audit rows), batch flashing with
 * a live list, the inventory with search and filters, and seed-file import.
 * It first trades the printed pairing code for a session (station-session.ts).
 */
import { Token2Driver } from '../../../drivers/token2-nfc/driver.js';
import { TOKEN2_MODELS, TOKEN2_PRODUCTS } from '../../../drivers/token2-nfc/protocol.js';
import { BridgeClient, bridgeSupport, type BridgeTransport } from '../../transport/web/bridge.js';
import { webHidSupport, WebHidReportTransport } from '../../transport/web/webhid.js';
import { field, h, say, select, setOptions, statusLine } from './dom.js';
import { api, pairPage, sessionSecret } from './station-session.js';

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
    setOptions(readerSelect, readers.map((r) => [r.name, `${r.name}${r.token ? ' (token on it)' : ''}`]));
    readersNote.textContent = readers.length === 0 ? 'No reader found: plug one in (pcscd must see it).' : `${readers.length} reader(s) on this computer.`;
  } catch (e) {
    readersNote.textContent = (e as Error).message;
  }
}

async function readToken(): Promise<void> {
  let t: BridgeTransport | null = null;
  try {
    t = await (await bridge()).openTransport(readerSelect.value || undefined, 10);
    // The driver itself runs in this page; the bridge only carries its APDUs.
    const info = await new Token2Driver(t).readInfo();
    tokenInfo.replaceChildren(
      h('p', {}, `${info.product ?? info.model} ${info.serial} on ${t.readerName}. `, `Its clock is ${info.offset >= 0 ? '+' : ''}${info.offset} s from this computer's.`, info.wipesSeedOnConfig ? ' Setting its clock wipes its seed.' : ''),
    );
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

// ---- flash form -------------------------------------------------------------
const form = h('form', { id: 'flash-form', novalidate: true });
// The models of the family the station flashes (Token2 NFC), named by their products: the family's own lists, not a copy.
const productsOf = (m: string) => TOKEN2_PRODUCTS.filter((p) => p.model === m).map((p) => p.product).join(', ');
const model = select('model', [['', 'From the serial'], ...TOKEN2_MODELS.map((m): [string, string] => [m, `${m} (${productsOf(m)})`])]);
const algorithm = select('algorithm', [['sha1', 'SHA-1'], ['sha256', 'SHA-256']]);
const period = select('period', [['30', '30 seconds'], ['60', '60 seconds']]);
const digits = select('digits', [['6', '6 digits']]);
const displayTimeout = select('displayTimeout', [['15', '15 seconds'], ['30', '30 seconds'], ['60', '60 seconds'], ['120', '120 seconds']], '30');
const seed = h('input', { id: 'seed', name: 'seed', type: 'password', autocomplete: 'off', spellcheck: 'false' });
const resource = select('resource', [['', 'None']]);
const user = h('input', { id: 'user', name: 'user', type: 'text', list: 'users', autocomplete: 'off' });
const usersList = h('datalist', { id: 'users' });
const force = h('input', { id: 'force', name: 'force', type: 'checkbox' });
const batch = h('input', { id: 'batch', name: 'batch', type: 'checkbox' });
const flashButton = h('button', { type: 'submit', id: 'flash' }, 'Flash');
const stopButton = h('button', { type: 'button', id: 'stop', disabled: true }, 'Stop the batch');
const batchList = h('ol', { id: 'batch-list', 'aria-live': 'polite', 'aria-label': 'Batch results' });
let stopRequested = false;
let onStop: () => void = () => {};
const stopped = () => new Promise<void>((resolve) => (onStop = resolve));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function formValues(): Record<string, string | boolean> {
  return { model: model.value, algorithm: algorithm.value, period: period.value, displayTimeout: displayTimeout.value, seed: seed.value.trim(), resource: resource.value, user: user.value.trim(), force: force.checked };
}

/** Batch mode: polls the readers until a token lies on the chosen one; false when the batch was stopped. */
async function waitForToken(c: BridgeClient): Promise<boolean> {
  say(status, 'Put the next token on the reader (or stop the batch).');
  while (!stopRequested) {
    const rs = await c.readers();
    if (rs.some((r) => r.token && (!readerSelect.value || r.name === readerSelect.value))) return true;
    await sleep(400);
  }
  return false;
}

/** Flashes the token on the chosen reader; returns its transport still open, so a batch can wait for the token to leave. */
async function flashOne(c: BridgeClient): Promise<{ t: BridgeTransport; serial?: string; error?: Error & { code?: string } }> {
  const t = await c.openTransport(readerSelect.value || undefined, batch.checked ? 0 : 10);
  try {
    // The server flashes the token it just connected; the page only sends the form.
    const r = await c.flash<{ serial: string; product: string | null; model: string; token: { state: string } }>(formValues(), (step) => say(status, `${t.readerName}: ${step}…`));
    say(status, `Flashed ${r.product ?? r.model} ${r.serial}: now ${r.token.state}.`, 'ok');
    return { t, serial: r.serial };
  } catch (e) {
    return { t, error: e as Error & { code?: string } };
  }
}

/** The next token only after this one has left the reader (or the batch was stopped). */
async function tokenLeft(t: BridgeTransport): Promise<void> {
  if (!t.isPresent() || stopRequested) return;
  say(status, 'Take the token off the reader.');
  await Promise.race([new Promise<void>((resolve) => t.onRemoved(resolve)), stopped()]);
}

async function onFlash(ev: Event): Promise<void> {
  ev.preventDefault();
  if (seed.value.trim() && batch.checked) {
    say(status, 'A batch writes a fresh seed to each token: clear the seed field, or untick Batch.', 'error');
    seed.focus();
    return;
  }
  const c = await bridge().catch((e: Error) => {
    say(status, e.message, 'error');
    return null;
  });
  if (!c) return;
  flashButton.disabled = true;
  stopRequested = false;
  stopButton.disabled = !batch.checked;
  const counts = { flashed: 0, skipped: 0, failed: 0 };
  try {
    do {
      if (batch.checked && !(await waitForToken(c))) break;
      let one: Awaited<ReturnType<typeof flashOne>>;
      try {
        one = await flashOne(c);
      } catch (e) {
        // No token to talk to (opening the reader failed).
        batchList.append(h('li', { 'data-outcome': 'failed' }, `failed: ${(e as Error).message}`));
        say(status, `Flash failed: ${(e as Error).message}`, 'error');
        counts.failed++;
        break;
      }
      const err = one.error;
      if (!err) {
        counts.flashed++;
        batchList.append(h('li', { 'data-outcome': 'flashed' }, `flashed ${one.serial}`));
      } else {
        const skipped = err.code === 'seed-present' || err.code === 'cancelled';
        counts[skipped ? 'skipped' : 'failed']++;
        batchList.append(h('li', { 'data-outcome': skipped ? 'skipped' : 'failed' }, `${skipped ? 'skipped' : 'failed'}: ${err.message}`));
        say(status, `${skipped ? 'Skipped' : 'Flash failed'}: ${err.message}`, 'error');
      }
      void refreshInventory();
      if (batch.checked) await tokenLeft(one.t);
      await one.t.close();
      if (err?.code === 'bridge-closed') break;
    } while (batch.checked && !stopRequested);
    if (batch.checked) say(status, `Batch stopped: ${counts.flashed} flashed, ${counts.skipped} skipped, ${counts.failed} failed.`);
  } finally {
    flashButton.disabled = false;
    stopButton.disabled = true;
    void refreshInventory();
  }
}

form.append(
  field('Model', model),
  field('Algorithm', algorithm),
  field('Time step', period),
  field('Digits', digits, 'Token2 NFC tokens show 6 digits.'),
  field('Display timeout', displayTimeout),
  field('Seed (base32, optional)', seed, 'Leave it empty for a fresh random seed from this computer.'),
  field('Resource', resource),
  field('User', user, 'A user of the chosen Resource; the token is assigned to them.'),
  usersList,
  field('Overwrite a token that already has a seed', force),
  field('Batch: flash every token put on the reader until stopped', batch),
  h('div', { class: 'actions' }, flashButton, stopButton),
);
form.addEventListener('submit', (ev) => void onFlash(ev));
stopButton.addEventListener('click', () => {
  stopRequested = true;
  onStop();
  say(status, 'The batch stops after the current token.');
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
      ...rows.map((t) => h('tr', { 'data-serial': t.serial }, ...[t.serial, t.manufacturer, t.model ?? '', t.kind, t.state, `${t.algorithm}/${t.period}s`, t.resource ?? '', t.user ?? ''].map((c) => h('td', {}, c)))),
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
const passwordRow = field('Password of the file', importPassword, 'The file is encrypted; type its password and import again.');
passwordRow.hidden = true;
const importResource = select('import-resource', [['', 'None']]);
const importResult = h('p', { id: 'import-result', role: 'status', 'aria-live': 'polite' });
const dropZone = h('div', { id: 'drop-zone', class: 'drop' }, 'Drop a seed file here (PSKC, CSV, DPW, otpauth), or choose it below.');
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
    const r = await api<{ batch: number; imported: number; skipped: number; failed: number; format: string }>('/api/import', {
      fileName: file.name,
      contentBase64: base64(await file.arrayBuffer()),
      password: importPassword.value || undefined,
      resource: importResource.value || undefined,
    });
    passwordRow.hidden = true;
    importPassword.value = '';
    say(importResult, `${file.name} (${r.format}): ${r.imported} imported, ${r.skipped} skipped, batch ${r.batch}.`, 'ok');
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
const importForm = h('form', { id: 'import-form' }, dropZone, field('Seed file', fileInput), passwordRow, field('Resource for the imported tokens', importResource), h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'import' }, 'Import')), importResult);
importForm.addEventListener('submit', (ev) => void importFile(ev));

// ---- page -------------------------------------------------------------------------
function render(): void {
  const hid = webHidSupport();
  const br = bridgeSupport();
  main.replaceChildren(
    h('h1', {}, 'tokensmith station'),
    status,
    h(
      'section',
      { 'aria-labelledby': 'readers-h' },
      h('h2', { id: 'readers-h' }, 'Readers'),
      br.available ? readersNote : h('p', {}, br.why!),
      field('Reader', readerSelect),
      h('div', { class: 'actions' }, h('button', { type: 'button', id: 'refresh-readers', onclick: () => void refreshReaders() }, 'Refresh the readers'), h('button', { type: 'button', id: 'read-token', onclick: () => void readToken() }, 'Read the token')),
      tokenInfo,
      hid.available ? h('div', { class: 'actions' }, h('button', { type: 'button', id: 'use-hid', onclick: () => void useHid() }, 'Use a USB HID token (WebHID)')) : null,
      h('p', { id: 'hid-support' }, hid.available ? 'WebHID is available for USB HID tokens. YubiKeys are not among them: the browser blocks every YubiKey for pages, so program a YubiKey OTP slot on this computer with `tokensmith device flash --model yubikey-otp`.' : hid.why!),
      hidNote,
    ),
    h('section', { 'aria-labelledby': 'flash-h' }, h('h2', { id: 'flash-h' }, 'Flash a token'), form, batchList),
    h(
      'section',
      { 'aria-labelledby': 'inventory-h' },
      h('h2', { id: 'inventory-h' }, 'Inventory'),
      h('div', { class: 'filters' }, field('Search (serial, user, model)', search), field('State', stateFilter), field('Resource', resourceFilter)),
      h('table', { id: 'inventory' }, h('caption', {}, 'Tokens in the store'), h('thead', {}, h('tr', {}, ...['Serial', 'Manufacturer', 'Model', 'Kind', 'State', 'Algorithm', 'Resource', 'User'].map((c) => h('th', { scope: 'col' }, c)))), inventoryBody),
    ),
    h('section', { 'aria-labelledby': 'import-h' }, h('h2', { id: 'import-h' }, 'Import a seed file'), importForm),
  );
}

function start(): void {
  render();
  void refreshReaders();
  void refreshInventory();
  void loadResources()
    .then(() => {
      setOptions(importResource, Array.from(resource.options).map((o) => [o.value, o.text]));
      return loadUsers();
    })
    .catch((e: Error) => say(status, e.message, 'error'));
}

pairPage(main, start);

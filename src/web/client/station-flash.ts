/**
 * The station's flash section: the form (its models from the server's
 * registry, with the extra fields and digit counts each model's family asks for), a single
 * flash through the server's flash service, and a batch through the server's
 * flash-batch service (the same as `tokensmith device flash --batch`) with a
 * live list of outcomes.
 */
import type { BatchEvent, FlashBatchReport } from '../../core/batch-report.js';
import type { BridgeClient } from '../../transport/web/bridge.js';
import { field, h, say, select, setOptions } from './dom.js';
import { api } from './station-session.js';

export interface FlashDeps {
  bridge(): Promise<BridgeClient>;
  /** The chosen reader's name ('' for the first with a token). */
  reader(): string;
  status: HTMLElement;
  refreshInventory(): Promise<void>;
}

type ExtraField = 'profile' | 'title' | 'customerKey';

interface StationModel {
  model: string;
  family: string;
  flashable: boolean;
  why?: string;
  products: string[];
  /** The extra fields its family's form shows (src/provision/families/contract.ts), and its digit counts. */
  fields: { name: ExtraField; label: string; hint: string }[];
  digits: number[];
}

/** The models as the server listed them (the form's extra fields and digits follow the chosen one). */
let listed: StationModel[] = [];

const model = select('model', [['', 'From the token on the reader']]);
const modelNote = h('p', { id: 'model-note' });
const profile = h('input', { id: 'profile', name: 'profile', type: 'number', min: 0, max: 99, value: '0' });
const title = h('input', { id: 'title', name: 'title', type: 'text', maxlength: 12, autocomplete: 'off' });
const customerKey = h('input', {
  id: 'customerKey',
  name: 'customerKey',
  type: 'password',
  autocomplete: 'off',
  spellcheck: 'false',
});
const extraControls: Record<ExtraField, HTMLInputElement> = { profile, title, customerKey };
/** The chosen model's extra fields, labelled and explained as its family says. */
const familyFields = h('div', { id: 'family-fields', hidden: true });
const algorithm = select('algorithm', [
  ['sha1', 'SHA-1'],
  ['sha256', 'SHA-256'],
]);
const period = select('period', [
  ['30', '30 seconds'],
  ['60', '60 seconds'],
]);
const digits = select('digits', [['6', '6 digits']]);
const displayTimeout = select(
  'displayTimeout',
  [
    ['15', '15 seconds'],
    ['30', '30 seconds'],
    ['60', '60 seconds'],
    ['120', '120 seconds'],
  ],
  '30',
);
const seed = h('input', { id: 'seed', name: 'seed', type: 'password', autocomplete: 'off', spellcheck: 'false' });
export const resource = select('resource', [['', 'None']]);
const user = h('input', { id: 'user', name: 'user', type: 'text', list: 'users', autocomplete: 'off' });
export const usersList = h('datalist', { id: 'users' });
const force = h('input', { id: 'force', name: 'force', type: 'checkbox' });
const batch = h('input', { id: 'batch', name: 'batch', type: 'checkbox' });
const entraActivate = h('input', { id: 'entra-activate', name: 'entraActivate', type: 'checkbox' });
const flashButton = h('button', { type: 'submit', id: 'flash' }, 'Flash');
const stopButton = h('button', { type: 'button', id: 'stop', disabled: true }, 'Stop the batch');
const batchList = h('ol', { id: 'batch-list', 'aria-live': 'polite', 'aria-label': 'Batch results' });

/** The models the registry knows; a family that cannot be flashed is listed, disabled, with its reason below. */
export async function loadModels(): Promise<void> {
  const models = (listed = await api<StationModel[]>('/api/models'));
  const label = (m: StationModel) =>
    `${m.model}${m.products.length ? ` (${m.products.join(', ')})` : ''}${m.flashable ? '' : ' (cannot be flashed)'}`;
  setOptions(model, [
    ['', 'From the token on the reader'],
    ...models.map((m): [string, string] => [m.model, label(m)]),
  ]);
  for (const m of models)
    if (!m.flashable) model.querySelector<HTMLOptionElement>(`option[value="${m.model}"]`)!.disabled = true;
  const refused = models.filter((m) => !m.flashable);
  modelNote.replaceChildren(
    ...refused.map((m) => h('span', { 'data-model': m.model }, `${m.model}: ${m.why ?? 'cannot be flashed'} `)),
  );
}

const chosen = (): StationModel | undefined => listed.find((m) => m.model === model.value);

function onModelChange(): void {
  const fields = chosen()?.fields ?? [];
  familyFields.replaceChildren(...fields.map((f) => field(f.label, extraControls[f.name], f.hint)));
  familyFields.hidden = fields.length === 0;
  setOptions(
    digits,
    (chosen()?.digits ?? [6]).map((d): [string, string] => [String(d), `${d} digits`]),
  );
  if (!digits.value) digits.value = '6';
}

function formValues(): Record<string, string | boolean> {
  const v: Record<string, string | boolean> = {
    model: model.value,
    algorithm: algorithm.value,
    period: period.value,
    digits: digits.value,
    displayTimeout: displayTimeout.value,
    seed: seed.value.trim(),
    resource: resource.value,
    user: user.value.trim(),
    force: force.checked,
  };
  for (const f of chosen()?.fields ?? []) v[f.name] = extraControls[f.name].value;
  return v;
}

type Flashed = { serial: string; product?: string | null; model: string; token: { state: string } };

async function flashOne(c: BridgeClient, deps: FlashDeps): Promise<void> {
  const t = await c.openTransport(deps.reader() || undefined, 10);
  try {
    // The server flashes the token it just connected; the page only sends the form.
    const r = await c.flash<Flashed>(formValues(), (step) => say(deps.status, `${t.readerName}: ${step}…`));
    say(deps.status, `Flashed ${r.product ?? r.model} ${r.serial}: now ${r.token.state}.`, 'ok');
  } finally {
    await t.close();
  }
}

function onBatchEvent(e: BatchEvent, deps: FlashDeps): void {
  if (e.type === 'waiting') say(deps.status, 'Put the next token on the reader (or stop the batch).');
  else if (e.type === 'step') say(deps.status, `${e.text}…`);
  else if (e.type === 'take-off') say(deps.status, 'Take the token off the reader.');
  else {
    const { outcome, serial, message } = e.entry;
    batchList.append(
      h('li', { 'data-outcome': outcome }, outcome === 'flashed' ? `flashed ${serial}` : `${outcome}: ${message}`),
    );
    if (outcome !== 'flashed')
      say(
        deps.status,
        `${outcome === 'failed' ? 'Flash failed' : outcome === 'skipped' ? 'Skipped' : 'Cancelled'}: ${message}`,
        'error',
      );
    void deps.refreshInventory();
  }
}

async function flashBatch(c: BridgeClient, deps: FlashDeps): Promise<void> {
  stopButton.disabled = false;
  const r: FlashBatchReport = await c.flashBatch(
    { ...formValues(), entraActivate: entraActivate.checked },
    deps.reader() || undefined,
    (e) => onBatchEvent(e, deps),
  );
  const n = r.counts;
  say(
    deps.status,
    `Batch stopped: ${n.flashed} flashed, ${n.skipped} skipped, ${n.failed} failed, ${n.cancelled} cancelled.`,
  );
}

async function onFlash(ev: Event, deps: FlashDeps): Promise<void> {
  ev.preventDefault();
  if (seed.value.trim() && batch.checked) {
    say(deps.status, 'A batch writes a fresh seed to each token: clear the seed field, or untick Batch.', 'error');
    seed.focus();
    return;
  }
  flashButton.disabled = true;
  try {
    const c = await deps.bridge();
    await (batch.checked ? flashBatch(c, deps) : flashOne(c, deps));
  } catch (e) {
    say(deps.status, `Flash failed: ${(e as Error).message}`, 'error');
  } finally {
    flashButton.disabled = false;
    stopButton.disabled = true;
    void deps.refreshInventory();
  }
}

/** The section, wired to the page's bridge, reader choice, status line and inventory. */
export function flashSection(deps: FlashDeps): HTMLElement {
  const form = h(
    'form',
    { id: 'flash-form', novalidate: true },
    field('Model', model, 'From the registry of device families; a family that cannot be flashed says why below.'),
    modelNote,
    familyFields,
    field('Algorithm', algorithm),
    field('Time step', period),
    field('Digits', digits, 'The code length: the choices are the ones the chosen model can show.'),
    field('Display timeout', displayTimeout),
    field('Seed (base32, optional)', seed, 'Leave it empty for a fresh random seed from this computer.'),
    field('Resource', resource),
    field('User', user, 'A user of the chosen Resource; the token is assigned to them.'),
    usersList,
    field('Overwrite a token that already has a seed', force),
    field('With a batch: push each token to Entra ID, assign and activate it', entraActivate),
    field('Batch: flash every token put on the reader until stopped', batch),
    h('div', { class: 'actions' }, flashButton, stopButton),
  );
  model.addEventListener('change', onModelChange);
  form.addEventListener('submit', (ev) => void onFlash(ev, deps));
  stopButton.addEventListener('click', () => {
    say(deps.status, 'The batch stops: a token not yet written is cancelled, one being written is finished.');
    void deps
      .bridge()
      .then((c) => c.stopBatch())
      .catch((e: Error) => say(deps.status, e.message, 'error'));
  });
  return h('section', { 'aria-labelledby': 'flash-h' }, h('h2', { id: 'flash-h' }, 'Flash a token'), form, batchList);
}

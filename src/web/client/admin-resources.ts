/**
 * The console's Resources: the list with a create form, and a Resource's
 * page: its Self-Service address, Allowed Actions (Token and User groups,
 * each with an All toggle, and one overall), Token Enrollment, limits, and
 * Save, which says what changed. Leaving with unsaved changes warns.
 */
import { field, h, say } from './dom.js';
import { fieldError, heading, pageLink, pageStatus, sayError, section, table } from './admin-common.js';
import { guardUnsaved } from './admin-nav.js';
import { api } from './station-session.js';

export interface ResourceView {
  name: string;
  url: string | null;
  lockAfter: number;
  window: number;
  syncWindow: number;
  actions: string[];
  tokenTypes: string[];
  users: number;
  tokens: number;
  assigned: number;
}

/** Each action and token type with the one line that says what switching it on lets a user do. */
export const TOKEN_ACTIONS: [string, string][] = [
  ['enroll', 'claim a token from the stock by typing the code it shows'],
  ['reissue', 'send their enrolled token back to pending and prove it again with a code'],
  ['assign-existing', "take a token of the Resource's stock by its serial, enrolled with its first code"],
  ['unassign', 'give their token back'],
  ['synchronize', 'resynchronise their drifted token with two codes in a row'],
  ['set-pin', 'set a PIN on their token (no token type here carries one yet: the portal says so)'],
  ['remove-pin', 'remove the PIN of their token (no token type here carries one yet)'],
];
export const USER_ACTIONS: [string, string][] = [
  ['change-password', 'change their portal password'],
  ['change-email', 'change the email their sign-in codes go to'],
  ['change-phone', 'change their phone number'],
  ['change-login', 'change the login they sign in with'],
  ['change-name', 'change their display name'],
];
export const TOKEN_TYPES: [string, string][] = [
  ['programmable', 'a programmable hardware token that this station flashed'],
  ['classic', 'a hardware token whose seed came in a seed file'],
  ['software', 'an authenticator app: the portal shows a QR code'],
];

// ---- the list -------------------------------------------------------------------
export async function renderResources(view: HTMLElement): Promise<void> {
  const status = pageStatus('resources-status');
  const name = h('input', {
    id: 'new-resource',
    name: 'name',
    type: 'text',
    required: true,
    maxlength: 100,
    autocomplete: 'off',
  });
  const url = h('input', { id: 'new-resource-url', name: 'url', type: 'url', autocomplete: 'off' });
  const form = h(
    'form',
    { id: 'create-resource', novalidate: true },
    field('Name', name, 'Letters, digits, spaces or . _ - @; everything it allows starts off.'),
    field('Self-Service address (optional)', url, 'The portal link its users are given.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'create' }, 'Create the Resource')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    fieldError(name, name.value.trim() ? null : 'Give the Resource a name.');
    if (!name.value.trim()) return name.focus();
    api<ResourceView>('/api/admin/resources', { name: name.value.trim(), url: url.value.trim() || undefined })
      .then((r) => (location.hash = `#/resources/${encodeURIComponent(r.name)}`))
      .catch((e: Error & { code?: string }) => {
        const target = /url/i.test(e.message) ? url : name;
        fieldError(target, e.message);
        target.focus();
      });
  });
  view.replaceChildren(
    heading('Resources'),
    status,
    section('resource-list', 'Every Resource', h('p', {}, 'Loading…')),
    section('resource-create', 'Create a Resource', form),
  );
  try {
    const all = await api<ResourceView[]>('/api/admin/resources');
    const rows = all.map((r) => [
      pageLink(['resources', r.name], r.name),
      r.url,
      r.users,
      r.tokens,
      r.actions.join(', ') || 'none',
      r.tokenTypes.join(', ') || 'none',
    ]);
    view
      .querySelector('#resource-list p')!
      .replaceWith(
        table(
          'resources',
          'Resources in the store',
          ['Name', 'Self-Service address', 'Users', 'Tokens', 'Allowed actions', 'Token types'],
          rows,
          'No Resources yet: create one below.',
        ),
      );
  } catch (e) {
    sayError(status, e);
  }
}

// ---- one Resource -----------------------------------------------------------------
/** A checkbox with its label and its one-line explanation. */
function check(id: string, label: string, hint?: string): { row: HTMLElement; box: HTMLInputElement } {
  const box = h('input', { type: 'checkbox', id, name: id });
  const row = h('div', { class: 'check' }, box, h('label', { for: id }, label));
  if (hint) {
    row.append(h('small', { id: `${id}-hint` }, hint));
    box.setAttribute('aria-describedby', `${id}-hint`);
  }
  return { row, box };
}

/** A group of checkboxes with an All toggle that follows them (checked, unchecked or mixed). */
function group(prefix: string, legend: string, allId: string, items: [string, string][]) {
  const all = check(allId, `All ${legend.toLowerCase()}`);
  const boxes = items.map(([key, hint]) => ({ key, ...check(`${prefix}-${key}`, key, hint) }));
  const sync = () => {
    const on = boxes.filter((b) => b.box.checked).length;
    all.box.checked = on === boxes.length;
    all.box.indeterminate = on > 0 && on < boxes.length;
  };
  all.box.addEventListener('change', () => {
    for (const b of boxes) b.box.checked = all.box.checked;
    sync();
  });
  for (const b of boxes) b.box.addEventListener('change', sync);
  const fieldset = h(
    'fieldset',
    { id: `${allId}-group` },
    h('legend', {}, legend),
    all.row,
    ...boxes.map((b) => b.row),
  );
  return {
    fieldset,
    all: all.box,
    sync,
    set: (on: string[]) => {
      for (const b of boxes) b.box.checked = on.includes(b.key);
      sync();
    },
    value: () => boxes.filter((b) => b.box.checked).map((b) => b.key),
  };
}

function numberInput(id: string, value: number, max: number): HTMLInputElement {
  return h('input', { id, name: id, type: 'number', min: 1, max, step: 1, value: String(value), inputmode: 'numeric' });
}

export async function renderResource(view: HTMLElement, args: string[]): Promise<void> {
  const name = args[0] ?? '';
  view.replaceChildren(heading(`Resource ${name}`), h('p', {}, 'Loading…'));
  let r: ResourceView;
  try {
    r = await api<ResourceView>(`/api/admin/resources/${encodeURIComponent(name)}`);
  } catch (e) {
    view.replaceChildren(
      heading(`Resource ${name}`),
      h('p', { id: 'resource-error', class: 'status', 'data-kind': 'error' }, (e as Error).message),
      pageLink(['resources'], 'Back to the Resources'),
    );
    return;
  }
  const form = resourceForm(r);
  view.replaceChildren(
    heading(`Resource ${r.name}`),
    h(
      'p',
      { id: 'resource-counts' },
      `${r.users} user(s), ${r.tokens} token(s), ${r.assigned} assigned. `,
      pageLink(['users'], 'Its users'),
      ' · ',
      pageLink(['tokens'], 'Tokens'),
    ),
    form,
  );
}

/** The form's controls, what they hold as a request body, and how a saved Resource is put back into them. */
function resourceControls(r: ResourceView) {
  const c = {
    url: h('input', { id: 'url', name: 'url', type: 'url', value: r.url ?? '', autocomplete: 'off' }),
    openLink: h('p', { id: 'portal-link' }),
    token: group('action', 'Token actions', 'all-token', TOKEN_ACTIONS),
    user: group('action', 'User actions', 'all-user', USER_ACTIONS),
    everything: check('all-actions', 'All actions (token and user)'),
    types: group('type', 'Token types', 'all-types', TOKEN_TYPES),
    lockAfter: numberInput('lockAfter', r.lockAfter, 100),
    win: numberInput('window', r.window, 100),
    syncWindow: numberInput('syncWindow', r.syncWindow, 100000),
  };
  const followAll = () => {
    const a = c.token.value().length + c.user.value().length;
    c.everything.box.checked = a === TOKEN_ACTIONS.length + USER_ACTIONS.length;
    c.everything.box.indeterminate = a > 0 && !c.everything.box.checked;
  };
  c.everything.box.addEventListener('change', () => {
    c.token.set(c.everything.box.checked ? TOKEN_ACTIONS.map(([k]) => k) : []);
    c.user.set(c.everything.box.checked ? USER_ACTIONS.map(([k]) => k) : []);
  });
  const body = () => ({
    url: c.url.value.trim(),
    actions: [...c.token.value(), ...c.user.value()],
    tokenTypes: c.types.value(),
    lockAfter: Number(c.lockAfter.value),
    window: Number(c.win.value),
    syncWindow: Number(c.syncWindow.value),
  });
  const load = (v: ResourceView) => {
    c.url.value = v.url ?? '';
    c.openLink.replaceChildren(
      v.url ? h('a', { href: v.url, rel: 'noreferrer', id: 'portal-address' }, v.url) : 'No address yet.',
    );
    c.token.set(v.actions);
    c.user.set(v.actions);
    c.types.set(v.tokenTypes);
    c.lockAfter.value = String(v.lockAfter);
    c.win.value = String(v.window);
    c.syncWindow.value = String(v.syncWindow);
    followAll();
  };
  load(r);
  return { ...c, followAll, body, load };
}
type Controls = ReturnType<typeof resourceControls>;

function resourceSections(c: Controls): HTMLElement[] {
  return [
    section(
      'address',
      'Self-Service address',
      field(
        'Self-Service address',
        c.url,
        'The portal link the users of this Resource are given (tokensmith portal serves it at /r/<name>).',
      ),
      c.openLink,
    ),
    section(
      'allowed',
      'Allowed Actions',
      h('p', {}, 'What a user of this Resource may do on its portal. Everything is off until switched on here.'),
      c.everything.row,
      c.token.fieldset,
      c.user.fieldset,
    ),
    section('enrollment', 'Token Enrollment', h('p', {}, 'The token types users may enroll.'), c.types.fieldset),
    section(
      'limits',
      'Limits',
      field(
        'Lock after (failed codes)',
        c.lockAfter,
        'Failed codes before a token is locked for enrollment, and failed sign-ins before a 15-minute lock.',
      ),
      field('Code window (steps)', c.win, 'How many time steps either way an enrollment or sign-in code may be off.'),
      field('Sync window (steps)', c.syncWindow, 'How far synchronize searches, in time steps.'),
    ),
  ];
}

/** The control a refusal of the service is about (its message names the flag), if any. */
function controlOf(c: Controls, message: string): HTMLInputElement | null {
  if (/url|address/i.test(message)) return c.url;
  if (/lock-after/.test(message)) return c.lockAfter;
  if (/sync-window/.test(message)) return c.syncWindow;
  return /--window/.test(message) ? c.win : null;
}

function resourceForm(r: ResourceView): HTMLFormElement {
  const status = pageStatus('save-status');
  const c = resourceControls(r);
  const unsavedNote = h('p', { id: 'unsaved-note', class: 'unsaved', hidden: true }, 'Unsaved changes.');
  let saved = JSON.stringify(c.body());
  const dirty = () => JSON.stringify(c.body()) !== saved;
  guardUnsaved(dirty);
  const form = h(
    'form',
    { id: 'resource-form', novalidate: true },
    ...resourceSections(c),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'save' }, 'Save'), unsavedNote),
    status,
  );
  form.addEventListener('change', () => {
    c.followAll();
    unsavedNote.hidden = !dirty();
  });
  form.addEventListener('input', () => (unsavedNote.hidden = !dirty()));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const x of [c.url, c.lockAfter, c.win, c.syncWindow]) fieldError(x, null);
    api<{ resource: ResourceView; changes: string[] }>(`/api/admin/resources/${encodeURIComponent(r.name)}`, c.body())
      .then((res) => {
        c.load(res.resource);
        saved = JSON.stringify(c.body());
        unsavedNote.hidden = true;
        say(status, res.changes.length ? `Saved. ${res.changes.join('; ')}.` : 'Nothing changed.', 'ok');
      })
      .catch((e: Error) => {
        const target = controlOf(c, e.message);
        if (target) {
          fieldError(target, e.message);
          target.focus();
        }
        say(status, `Not saved: ${e.message}`, 'error');
      });
  });
  return form;
}

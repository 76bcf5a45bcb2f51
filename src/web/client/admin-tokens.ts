/**
 * The console's Tokens: the inventory with filters, and a token's page: its
 * facts, its history (the audit rows about it), and the admin's moves on it
 * (assign, unassign, lost, revoke, disable, enable, retire, resync with two
 * codes). A refusal of the state machine is shown in its own words.
 */
import { field, h, say, select, setOptions } from './dom.js';
import { facts, fieldError, heading, pageLink, pageStatus, sayError, section, table, when } from './admin-common.js';
import { api } from './station-session.js';

const STATES = ['in_stock', 'programmed', 'assigned', 'enrolled', 'disabled', 'lost', 'revoked', 'retired'];
const MOVES: [string, string][] = [
  ['lost', 'Report it lost'],
  ['revoke', 'Revoke it'],
  ['disable', 'Disable it'],
  ['enable', 'Enable it again'],
  ['retire', 'Retire it'],
];

interface TokenView {
  serial: string;
  manufacturer: string;
  model: string | null;
  kind: string;
  type: string;
  algorithm: string;
  digits: number;
  period: number;
  state: string;
  driftSteps: number;
  resource: string | null;
  user: string | null;
  locked?: boolean;
}

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

/** Details of an audit row as "key: value" pairs on one line. */
export function detailText(d: Record<string, unknown>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

export async function renderTokens(view: HTMLElement): Promise<void> {
  const status = pageStatus('tokens-status');
  const q = h('input', { id: 'token-search', type: 'search', name: 'q', autocomplete: 'off' });
  const state = select('token-state', [['', 'Any state'], ...STATES.map((s) => [s, s] as [string, string])]);
  const resource = select('token-resource', [['', 'Any Resource']]);
  const model = h('input', { id: 'token-model', type: 'text', name: 'model', autocomplete: 'off' });
  const list = h('div', { id: 'token-list' });
  const refresh = async () => {
    try {
      const p = new URLSearchParams({
        q: q.value,
        state: state.value,
        resource: resource.value,
        model: model.value.trim(),
      });
      const rows = await api<TokenView[]>(`/api/tokens?${p}`);
      list.replaceChildren(
        table(
          'tokens',
          'Tokens in the store',
          ['Serial', 'Model', 'Kind', 'State', 'Resource', 'User'],
          rows.map((t) => [pageLink(['tokens', t.serial], t.serial), t.model, t.kind, t.state, t.resource, t.user]),
          'No tokens match.',
        ),
      );
    } catch (e) {
      sayError(status, e);
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  for (const c of [q, model])
    c.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), 200);
    });
  for (const c of [state, resource]) c.addEventListener('change', () => void refresh());
  const names = (await api<{ name: string }[]>('/api/resources').catch(() => [])).map((r) => r.name);
  setOptions(resource, [['', 'Any Resource'], ...names.map((n) => [n, n] as [string, string])]);
  view.replaceChildren(
    heading('Tokens'),
    status,
    h(
      'div',
      { class: 'filters' },
      field('Search (serial, user, model)', q),
      field('State', state),
      field('Resource', resource),
      field('Model', model),
    ),
    list,
  );
  await refresh();
}

// ---- one token ----------------------------------------------------------------------
export async function renderToken(view: HTMLElement, args: string[]): Promise<void> {
  const serial = args[0] ?? '';
  const status = h('p', { id: 'token-status', class: 'status', role: 'status', 'aria-live': 'polite' });
  const base = `/api/admin/tokens/${encodeURIComponent(serial)}`;
  let t: TokenView;
  let history: AuditRow[];
  try {
    ({ token: t, history } = await api<{ token: TokenView; history: AuditRow[] }>(base));
  } catch (e) {
    view.replaceChildren(heading(`Token ${serial}`), status, pageLink(['tokens'], 'Back to the tokens'));
    sayError(status, e);
    return;
  }
  /** Runs one move; on success the page is drawn again with the new state, a refusal is said in words. */
  const move = async (
    path: string,
    body: unknown,
    done: (r: Record<string, unknown>) => string,
    field?: HTMLElement,
  ) => {
    try {
      const r = await api<Record<string, unknown>>(`${base}/${path}`, body);
      await renderToken(view, args);
      say(view.querySelector<HTMLElement>('#token-status')!, done(r), 'ok');
    } catch (e) {
      status.setAttribute('role', 'alert');
      say(status, `Refused: ${(e as Error).message}`, 'error');
      if (field) fieldError(field, (e as Error).message);
    }
  };
  view.replaceChildren(
    heading(`Token ${t.serial}`),
    status,
    tokenFacts(t),
    section(
      'token-assign',
      'Assign or take back',
      await assignForm(t, move),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            id: 'unassign',
            class: 'secondary',
            disabled: !t.user,
            onclick: () =>
              void move('unassign', {}, (r) => `Taken back from ${String(r.user)}; now ${String(r.state)}.`),
          },
          'Unassign (take it back)',
        ),
      ),
    ),
    section('token-moves', 'Life cycle', stateForm(move)),
    section('token-resync', 'Resynchronise', resyncForm(move)),
    section(
      'token-history',
      'History',
      table(
        'history',
        `Audit rows about token ${t.serial}`,
        ['#', 'When', 'Who', 'What', 'Details'],
        history.map((r) => [r.seq, when(r.at), r.actor, r.action, detailText(r.details)]),
        'No audit rows.',
      ),
    ),
  );
}

function tokenFacts(t: TokenView): HTMLDListElement {
  const type = `${t.type.toUpperCase()} ${t.algorithm} ${t.digits} digits${t.type === 'totp' ? `, ${t.period} s` : ''}`;
  return facts('token-facts', [
    ['State', t.state],
    ['Model', t.model],
    ['Manufacturer', t.manufacturer],
    ['Kind', t.kind],
    ['Type', type],
    ['Resource', t.resource],
    ['User', t.user],
    ['Drift', `${t.driftSteps} step(s)`],
    ['Locked', t.locked ? 'yes (too many failed codes)' : 'no'],
  ]);
}

type Move = (
  path: string,
  body: unknown,
  done: (r: Record<string, unknown>) => string,
  field?: HTMLElement,
) => Promise<void>;

async function assignForm(t: TokenView, move: Move): Promise<HTMLFormElement> {
  const names = (await api<{ name: string }[]>('/api/resources')).map((r) => r.name);
  const resource = select(
    'assign-resource',
    names.map((n) => [n, n] as [string, string]),
    t.resource ?? undefined,
  );
  const login = h('input', {
    id: 'assign-login',
    name: 'login',
    type: 'text',
    autocomplete: 'off',
    list: 'assign-users',
  });
  const users = h('datalist', { id: 'assign-users' });
  const loadUsers = async () => {
    const us = await api<{ login: string }[]>(`/api/users?resource=${encodeURIComponent(resource.value)}`).catch(
      () => [],
    );
    users.replaceChildren(...us.map((u) => h('option', { value: u.login })));
  };
  resource.addEventListener('change', () => void loadUsers());
  void loadUsers();
  const form = h(
    'form',
    { id: 'assign-form', novalidate: true },
    field('Resource', resource),
    field('User (login)', login),
    users,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'assign' }, 'Assign')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    fieldError(login, login.value.trim() ? null : 'Type the login of a user of this Resource.');
    if (!login.value.trim()) return login.focus();
    void move(
      'assign',
      { login: login.value.trim(), resource: resource.value },
      (r) => `Assigned to ${String(r.user)} in ${String(r.resource)}; now ${String(r.state)}.`,
      login,
    );
  });
  return form;
}

function stateForm(move: Move): HTMLElement {
  const reason = h('input', { id: 'move-reason', name: 'reason', type: 'text', autocomplete: 'off' });
  return h(
    'div',
    { id: 'state-moves' },
    field('Reason (optional, goes into the audit row)', reason),
    h(
      'div',
      { class: 'actions wrap' },
      ...MOVES.map(([action, label]) =>
        h(
          'button',
          {
            type: 'button',
            id: `move-${action}`,
            class: 'secondary',
            onclick: () =>
              void move(
                'state',
                { action, reason: reason.value.trim() || undefined },
                (r) => `${label}: ${String(r.from)} → ${String(r.to)}.`,
              ),
          },
          label,
        ),
      ),
    ),
  );
}

function resyncForm(move: Move): HTMLFormElement {
  const c1 = h('input', {
    id: 'code1',
    name: 'code1',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    maxlength: 10,
  });
  const c2 = h('input', {
    id: 'code2',
    name: 'code2',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    maxlength: 10,
  });
  const force = h('input', { id: 'resync-force', name: 'force', type: 'checkbox' });
  const form = h(
    'form',
    { id: 'resync-form', novalidate: true },
    h('p', {}, 'Read two codes the token shows one after the other.'),
    field('First code', c1),
    field('Next code', c2),
    field("Even if the Resource does not allow synchronize (an admin's override, audited)", force),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'resync' }, 'Resynchronise')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const bad = [c1, c2].find((c) => !/^\d{4,10}$/.test(c.value.trim()));
    for (const c of [c1, c2])
      fieldError(c, /^\d{4,10}$/.test(c.value.trim()) ? null : 'Type the code: 4 to 10 digits.');
    if (bad) return bad.focus();
    void move(
      'resync',
      { code1: c1.value.trim(), code2: c2.value.trim(), force: force.checked },
      (r) => `Resynchronised: drift ${String(r.previousDriftSteps)} → ${String(r.driftSteps)} step(s).`,
      c1,
    );
  });
  return form;
}

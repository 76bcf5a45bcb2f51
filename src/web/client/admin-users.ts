/**
 * The console's Users: search, add (a password or an email to sign in with),
 * import a CSV (each bad line shown with its line number), and a user's
 * page: their Resources (join, leave), their tokens, and the admin's changes
 * (admin-users-manage.ts); the directories with "Sync now" (admin-users-directory.ts).
 */
import { field, h, say, select, setOptions } from './dom.js';
import { facts, fieldError, heading, pageLink, pageStatus, sayError, section, table } from './admin-common.js';
import { directoriesSection } from './admin-users-directory.js';
import { userAdminSections } from './admin-users-manage.js';
import { api } from './station-session.js';
import type { UserView } from './admin-user-view.js';

interface ImportReport {
  file: string;
  imported: number;
  failed: number;
  assigned: number;
  errors: { where: string; message: string }[];
  cannotSignIn: string[];
}

async function resourceNames(): Promise<string[]> {
  return (await api<{ name: string }[]>('/api/resources')).map((r) => r.name);
}

function usersTable(users: UserView[]): HTMLTableElement {
  return table(
    'users',
    'Users',
    ['Login', 'Name', 'Email', 'Resources', 'Tokens', 'Can sign in'],
    users.map((u) => [
      pageLink(['users', u.login], u.login),
      u.name,
      u.email,
      u.resources.join(', '),
      u.tokens.map((t) => t.serial).join(', '),
      u.canSignIn ? 'yes' : 'no: no password or email',
    ]),
    'No users match.',
  );
}

export async function renderUsers(view: HTMLElement): Promise<void> {
  const status = pageStatus('users-status');
  const q = h('input', { id: 'user-search', type: 'search', name: 'q', autocomplete: 'off' });
  const inResource = select('user-resource', [['', 'Any Resource']]);
  const list = h('div', { id: 'user-list' });
  const refresh = async () => {
    try {
      const p = new URLSearchParams({ q: q.value, resource: inResource.value });
      list.replaceChildren(usersTable(await api<UserView[]>(`/api/admin/users?${p}`)));
    } catch (e) {
      sayError(status, e);
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 200);
  });
  inResource.addEventListener('change', () => void refresh());
  const names = await resourceNames().catch(() => [] as string[]);
  setOptions(inResource, [['', 'Any Resource'], ...names.map((n) => [n, n] as [string, string])]);
  const directories = await directoriesSection(refresh);
  view.replaceChildren(
    heading('Users'),
    status,
    section(
      'user-find',
      'Find users',
      h('div', { class: 'filters' }, field('Search (login, name, email, phone)', q), field('Resource', inResource)),
      list,
    ),
    section('user-add', 'Add a user', addUserForm(names, refresh)),
    section('user-import', 'Import users from a CSV', importForm(refresh)),
    ...(directories ? [directories] : []),
  );
  await refresh();
}

function addUserForm(resources: string[], refresh: () => Promise<void>): HTMLFormElement {
  const status = pageStatus('add-status');
  const login = h('input', { id: 'add-login', name: 'login', type: 'text', required: true, autocomplete: 'off' });
  const name = h('input', { id: 'add-name', name: 'name', type: 'text', autocomplete: 'off' });
  const email = h('input', { id: 'add-email', name: 'email', type: 'email', autocomplete: 'off' });
  const phone = h('input', { id: 'add-phone', name: 'phone', type: 'tel', autocomplete: 'off' });
  const password = h('input', { id: 'add-password', name: 'password', type: 'password', autocomplete: 'new-password' });
  const resource = select(
    'add-resource',
    resources.map((n) => [n, n] as [string, string]),
  );
  const byPassword = h('input', {
    type: 'radio',
    name: 'signin',
    id: 'signin-password',
    value: 'password',
    checked: true,
  });
  const byEmail = h('input', { type: 'radio', name: 'signin', id: 'signin-email', value: 'email' });
  const how = h(
    'fieldset',
    { id: 'signin-how' },
    h('legend', {}, 'They sign in to the portal with'),
    h('div', { class: 'check' }, byPassword, h('label', { for: 'signin-password' }, 'a password (type it below)')),
    h('div', { class: 'check' }, byEmail, h('label', { for: 'signin-email' }, 'a code sent to their email')),
  );
  const form = h(
    'form',
    { id: 'add-user', novalidate: true },
    field('Login', login),
    field('Name', name),
    how,
    field('Password', password, 'Hashed at once; never stored as typed, never shown.'),
    field('Email', email),
    field('Phone', phone),
    field('Resource', resource, resources.length ? undefined : 'Create a Resource first.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'add-user-submit' }, 'Add the user')),
    status,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const problems: [HTMLInputElement | HTMLSelectElement, string | null][] = [
      [login, login.value.trim() ? null : 'Give the login.'],
      [password, byPassword.checked && !password.value ? 'Type a password, or choose a code by email.' : null],
      [email, byEmail.checked && !email.value.trim() ? 'Type the email the codes go to.' : null],
      [resource, resource.value ? null : 'Choose the Resource they belong to.'],
    ];
    for (const [c, m] of problems) fieldError(c, m);
    const first = problems.find(([, m]) => m !== null);
    if (first) return first[0].focus();
    api<UserView>('/api/admin/users', {
      login: login.value.trim(),
      name: name.value.trim() || undefined,
      email: email.value.trim() || undefined,
      phone: phone.value.trim() || undefined,
      password: byPassword.checked ? password.value : undefined,
      resources: [resource.value],
    })
      .then((u) => {
        say(status, `Added ${u.login} to ${u.resources.join(', ')}.`, 'ok');
        form.reset();
        return refresh();
      })
      .catch((e: Error) => {
        const target = /email/i.test(e.message)
          ? email
          : /phone/i.test(e.message)
            ? phone
            : /login|already exists/i.test(e.message)
              ? login
              : null;
        if (target) fieldError(target, e.message);
        say(status, e.message, 'error');
      });
  });
  return form;
}

function importForm(refresh: () => Promise<void>): HTMLFormElement {
  const file = h('input', { id: 'users-csv', name: 'csv', type: 'file', accept: '.csv,text/csv' });
  const result = pageStatus('users-import-result');
  const errors = h('ul', { id: 'users-import-errors', class: 'errors' });
  const form = h(
    'form',
    { id: 'import-users' },
    h(
      'p',
      {},
      'Columns: login, name, email, phone, password, resources (separated by ;), token. All or nothing: one bad line and nothing is imported.',
    ),
    field('CSV file', file),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'import-users-submit' }, 'Import the users')),
    result,
    errors,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = file.files?.[0];
    errors.replaceChildren();
    if (!f) {
      fieldError(file, 'Choose a CSV file first.');
      return file.focus();
    }
    fieldError(file, null);
    void f
      .text()
      .then((csv) => api<ImportReport>('/api/admin/users/import', { fileName: f.name, csv }))
      .then((r) => {
        if (r.errors.length) {
          say(result, `Nothing imported: ${r.errors.length} line(s) of ${r.file} need fixing.`, 'error');
          errors.replaceChildren(...r.errors.map((e) => h('li', {}, `${e.where}: ${e.message}`)));
          return;
        }
        const cannot = r.cannotSignIn.length
          ? ` ${r.cannotSignIn.length} cannot sign in (no password or email): ${r.cannotSignIn.join(', ')}.`
          : '';
        say(result, `Imported ${r.imported} user(s), ${r.assigned} token(s) assigned.${cannot}`, 'ok');
        return refresh();
      })
      .catch((e: unknown) => sayError(result, e));
  });
  return form;
}

// ---- one user ---------------------------------------------------------------------
type Membership = (resource: string, join: boolean) => Promise<void>;

/** The user's Resources, each with a Leave button, and a form to join another. */
async function membershipSection(u: UserView, member: Membership): Promise<HTMLElement> {
  const others = (await api<{ name: string }[]>('/api/resources'))
    .map((r) => r.name)
    .filter((n) => !u.resources.includes(n));
  const joinSelect = select(
    'join-resource',
    others.map((n) => [n, n] as [string, string]),
  );
  const joinForm = h(
    'form',
    { id: 'join-form' },
    field('Resource to join', joinSelect),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'join', disabled: others.length === 0 }, 'Join')),
  );
  joinForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (joinSelect.value) void member(joinSelect.value, true);
  });
  const leave = (r: string) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        id: `leave-${r}`,
        'aria-label': `Leave ${r}`,
        onclick: () => void member(r, false),
      },
      'Leave',
    );
  return section(
    'user-resources',
    'Resources',
    table(
      'memberships',
      `Resources of ${u.login}`,
      ['Resource', 'Leave it'],
      u.resources.map((r) => [pageLink(['resources', r], r), leave(r)]),
      'In no Resource.',
    ),
    joinForm,
  );
}

export async function renderUser(view: HTMLElement, args: string[]): Promise<void> {
  const login = args[0] ?? '';
  const status = pageStatus('user-status');
  let u: UserView;
  try {
    u = await api<UserView>(`/api/admin/users/${encodeURIComponent(login)}`);
  } catch (e) {
    view.replaceChildren(heading(`User ${login}`), status, pageLink(['users'], 'Back to the users'));
    sayError(status, e);
    return;
  }
  const directory = (
    await api<{ directory: string | null }>(`/api/admin/users/${encodeURIComponent(u.login)}/directory`)
  ).directory;
  const rerender = async (message: string) => {
    await renderUser(view, args);
    say(view.querySelector('#user-status')!, message, 'ok');
  };
  const member = async (resource: string, join: boolean) => {
    try {
      await api(`/api/admin/users/${encodeURIComponent(u.login)}/membership`, { resource, join });
      await renderUser(view, args);
      say(view.querySelector('#user-status')!, `${join ? 'Joined' : 'Left'} ${resource}.`, 'ok');
    } catch (e) {
      sayError(status, e);
    }
  };
  view.replaceChildren(
    heading(`User ${u.login}`),
    status,
    facts('user-facts', [
      ['Name', u.name],
      ['Email', u.email],
      ['Phone', u.phone],
      ['Password', u.hasPassword ? 'set' : 'none'],
      ['Can sign in', u.canSignIn ? 'yes' : 'no: give a password or an email'],
    ]),
    ...userAdminSections(u, directory, view, rerender),
    await membershipSection(u, member),
    section(
      'user-tokens',
      'Tokens',
      table(
        'user-token-list',
        `Tokens of ${u.login}`,
        ['Serial', 'Resource', 'State'],
        u.tokens.map((t) => [pageLink(['tokens', t.serial], t.serial), t.resource, t.state]),
        'No token.',
      ),
    ),
  );
}

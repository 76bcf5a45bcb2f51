/**
 * A user's page, the admin's changes: edit the email, phone and name, reset
 * the portal password (ending the user's sessions), and remove (offboard) the
 * user after a confirmation in the page. A directory user's details and
 * password are the directory's: the page shows where they come from instead.
 */
import { field, h, say } from './dom.js';
import { fieldError, heading, pageLink, pageStatus, sayError, section } from './admin-common.js';
import type { UserView } from './admin-user-view.js';
import { api } from './station-session.js';

interface Removed {
  login: string;
  revoked: { serial: string; resource: string | null; from: string }[];
  resources: string[];
}

const userPath = (login: string, what: string) => `/api/admin/users/${encodeURIComponent(login)}/${what}`;

/** Re-draws the user's page, then says `message` on it. */
export type Rerender = (message: string) => Promise<void>;

function editForm(u: UserView, rerender: Rerender): HTMLFormElement {
  const status = pageStatus('edit-status');
  const input = (id: string, type: string, value: string | null) =>
    h('input', { id, name: id, type, value: value ?? '', autocomplete: 'off' });
  const name = input('edit-name', 'text', u.name);
  const email = input('edit-email', 'email', u.email);
  const phone = input('edit-phone', 'tel', u.phone);
  const form = h(
    'form',
    { id: 'edit-user', novalidate: true },
    field('Name', name),
    field('Email', email, 'Where portal sign-in codes go. Empty clears it.'),
    field('Phone', phone),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'edit-user-submit' }, 'Save the changes')),
    status,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const c of [name, email, phone]) fieldError(c, null);
    // Only what changed is sent, as `user edit` is given only the flags that change.
    const body: Record<string, string> = {};
    if (name.value.trim() !== (u.name ?? '')) body.name = name.value.trim();
    if (email.value.trim() !== (u.email ?? '')) body.email = email.value.trim();
    if (phone.value.trim() !== (u.phone ?? '')) body.phone = phone.value.trim();
    if (Object.keys(body).length === 0) return say(status, 'Nothing changed.', 'info');
    api<UserView>(userPath(u.login, 'edit'), body)
      .then((v) => rerender(`Saved the changes to ${v.login}.${v.canSignIn ? '' : ' They cannot sign in now.'}`))
      .catch((e: Error) => {
        const target = /email/i.test(e.message) ? email : /phone/i.test(e.message) ? phone : null;
        if (target) {
          fieldError(target, e.message);
          target.focus();
        }
        say(status, e.message, 'error');
      });
  });
  return form;
}

function resetForm(u: UserView, rerender: Rerender): HTMLFormElement {
  const status = pageStatus('reset-status');
  const password = h('input', {
    id: 'reset-password',
    name: 'password',
    type: 'password',
    autocomplete: 'new-password',
  });
  const send = (body: { password?: string; clear?: boolean }) =>
    api<UserView & { sessionsEnded: number }>(userPath(u.login, 'reset-password'), body)
      .then((v) =>
        rerender(
          `${body.clear ? 'Cleared the password of' : 'Set a new password for'} ${v.login}; ${v.sessionsEnded} portal session(s) ended.`,
        ),
      )
      .catch((e: unknown) => sayError(status, e));
  const clear = h(
    'button',
    { type: 'button', class: 'secondary', id: 'clear-password', onclick: () => void send({ clear: true }) },
    'Clear the password (codes by email)',
  );
  const form = h(
    'form',
    { id: 'reset-form', novalidate: true },
    field('New password', password, "Ends all of the user's portal sessions. Hashed at once, never shown."),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'reset-submit' }, 'Set the password'), clear),
    status,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    fieldError(password, password.value ? null : 'Type the new password.');
    if (!password.value) return password.focus();
    void send({ password: password.value });
  });
  return form;
}

/** Remove, then a confirmation in the page naming what happens to the tokens. */
function removeControl(u: UserView, view: HTMLElement): HTMLElement {
  const status = pageStatus('remove-status');
  const box = h('div', { id: 'remove-confirm', role: 'group', 'aria-labelledby': 'remove-question', hidden: true });
  const tokens = u.tokens.length ? `Their tokens (${u.tokens.map((t) => t.serial).join(', ')}) are revoked.` : '';
  const remove = () =>
    api<Removed>(userPath(u.login, 'remove'), {})
      .then((r) => {
        const done = pageStatus('user-status');
        view.replaceChildren(heading(`User ${r.login} removed`), done, pageLink(['users'], 'Back to the users'));
        const revoked = r.revoked.map((t) => `${t.serial} (was ${t.from})`).join(', ');
        say(done, `Removed ${r.login}.${revoked ? ` Revoked ${revoked}.` : ''}`, 'ok');
      })
      .catch((e: unknown) => sayError(status, e));
  const ask = h('button', { type: 'button', id: 'remove-user', class: 'danger' }, `Remove ${u.login}`);
  const cancel = h('button', { type: 'button', id: 'remove-cancel', class: 'secondary' }, 'Cancel');
  box.append(
    h('p', { id: 'remove-question' }, `Remove ${u.login}? ${tokens} Their portal sessions end. This cannot be undone.`),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', id: 'remove-yes', onclick: () => void remove() }, 'Yes, remove'),
      cancel,
    ),
  );
  ask.addEventListener('click', () => {
    box.hidden = false;
    cancel.focus();
  });
  cancel.addEventListener('click', () => {
    box.hidden = true;
    ask.focus();
  });
  return h(
    'div',
    {},
    h('p', {}, 'Offboarding: the user is deleted; the audit log keeps their history.'),
    ask,
    box,
    status,
  );
}

/** The admin's sections of a user's page; a directory user gets a line saying where they come from instead of edit and reset. */
export function userAdminSections(
  u: UserView,
  directory: string | null,
  view: HTMLElement,
  rerender: Rerender,
): HTMLElement[] {
  const remove = section('user-remove', 'Remove the user', removeControl(u, view));
  if (directory !== null)
    return [
      section(
        'user-directory',
        'Directory',
        h(
          'p',
          { id: 'directory-line' },
          `${u.login} comes from the directory ${directory}: their name, email, phone and password are changed there, and reach here with a sync.`,
        ),
      ),
      remove,
    ];
  return [
    section('user-edit', 'Edit', editForm(u, rerender)),
    section('user-reset', 'Reset the portal password', resetForm(u, rerender)),
    remove,
  ];
}

/**
 * The self-service page of one Resource (/r/<resource>): sign in (password,
 * or a code sent to the email; plus the token's code when the user holds an
 * enrolled token), then only the actions the Resource allows. Claiming a
 * hardware token: type its serial, or tap the card on Android (Web NFC), and
 * type the code it shows.
 */
import { WEB_NFC_LIMIT, scanTag, tokenSerialFromTag, webNfcSupport } from '../../transport/web/webnfc.js';
import { api, field, h, say, statusLine } from './dom.js';

interface Overview {
  login?: string;
  resource: string;
  actions: string[];
  tokenTypes: string[];
  token: { serial: string; state: string; type: string } | null;
  /** The tag of the session this page was loaded with: each action sends it back (a swapped cookie is refused). */
  sessionTag?: string;
}

const main = document.getElementById('main')!;
const resource = main.dataset.resource!;
const base = `/api/r/${encodeURIComponent(resource)}`;
const status = statusLine('status');
/** Set from the sign-in or /me answer; sent with every action. */
let pageSession = '';

function input(id: string, type = 'text', extra: Record<string, string> = {}): HTMLInputElement {
  return h('input', { id, name: id, type, autocomplete: 'off', ...extra });
}

function page(...content: (Node | null)[]): void {
  main.replaceChildren(h('h1', {}, `${resource}: your token`), status, ...content.filter((c): c is Node => c !== null));
}

/** An event handler for an async step: its failure lands in the status line like every error on this page, never as an unhandled rejection. */
function showingErrors<E extends Event>(step: (ev: E) => Promise<void>): (ev: E) => void {
  return (ev) => void step(ev).catch((e: unknown) => say(status, (e as Error).message, 'error'));
}

// ---- sign in --------------------------------------------------------------------
function signInForm(): void {
  const login = input('login', 'text', { autocomplete: 'username' });
  const form = h(
    'form',
    { id: 'signin-begin' },
    field('Login', login),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Continue')),
  );
  form.addEventListener(
    'submit',
    showingErrors(async (ev) => {
      ev.preventDefault();
      const c = await api<{ method: 'password' | 'email-code'; tokenCodeRequired: boolean; sentTo?: string }>(
        `${base}/signin/begin`,
        { login: login.value.trim() },
      );
      secretForm(login.value.trim(), c.method, c.tokenCodeRequired, c.sentTo);
    }),
  );
  page(h('section', { 'aria-labelledby': 'signin-h' }, h('h2', { id: 'signin-h' }, 'Sign in'), form));
  login.focus();
}

function secretForm(
  login: string,
  method: 'password' | 'email-code',
  tokenCodeRequired: boolean,
  sentTo?: string,
): void {
  const secret =
    method === 'password'
      ? input('password', 'password', { autocomplete: 'current-password' })
      : input('email-code', 'text', { inputmode: 'numeric', autocomplete: 'one-time-code' });
  const tokenCode = tokenCodeRequired
    ? input('token-code', 'text', { inputmode: 'numeric', autocomplete: 'one-time-code' })
    : null;
  const form = h(
    'form',
    { id: 'signin' },
    h('p', {}, `Signing in as ${login}.`, method === 'email-code' ? ` A code was sent to ${sentTo}.` : ''),
    field(method === 'password' ? 'Password' : 'Code from the email', secret),
    tokenCode ? field('Code shown on your token', tokenCode) : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
  );
  form.addEventListener(
    'submit',
    showingErrors(async (ev) => {
      ev.preventDefault();
      const o = await api<Overview>(`${base}/signin`, {
        login,
        [method === 'password' ? 'password' : 'emailCode']: secret.value,
        tokenCode: tokenCode?.value,
      });
      pageSession = o.sessionTag ?? '';
      await showPortal();
      say(status, `Signed in as ${login}.`, 'ok');
    }),
  );
  page(h('section', { 'aria-labelledby': 'signin-h' }, h('h2', { id: 'signin-h' }, 'Sign in'), form));
  secret.focus();
}

// ---- actions ----------------------------------------------------------------------
/** One form per allowed action; an action the Resource does not allow gets no control at all. */
function actionForm(
  action: string,
  title: string,
  fields: [label: string, el: HTMLInputElement][],
  button: string,
  extra?: Node,
): HTMLElement {
  const form = h(
    'form',
    { id: `action-${action}`, class: 'action' },
    h('h3', {}, title),
    extra ?? null,
    ...fields.map(([l, el]) => field(l, el)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, button)),
  );
  form.addEventListener(
    'submit',
    showingErrors(async (ev) => {
      ev.preventDefault();
      const body: Record<string, string> = {};
      for (const [, el] of fields) body[el.name] = el.value;
      const done = await api<{ sessionTag?: string }>(`${base}/actions/${action}`, body, {
        'X-Portal-Session': pageSession,
      });
      // A new password gives the session a new id: the page follows it.
      if (done.sessionTag) pageSession = done.sessionTag;
      await showPortal();
      say(status, `${button}: done.`, 'ok');
    }),
  );
  return form;
}

function enrollForm(): HTMLElement {
  const serial = input('serial', 'text', { inputmode: 'numeric' });
  const code = input('code', 'text', { inputmode: 'numeric', autocomplete: 'one-time-code' });
  const nfc = webNfcSupport();
  const tapNote = h('p', { id: 'nfc-note' }, nfc.available ? WEB_NFC_LIMIT : nfc.why!);
  const tap = nfc.available
    ? h(
        'button',
        {
          type: 'button',
          id: 'tap-card',
          onclick: showingErrors(async () => {
            say(status, 'Hold the card against the back of the phone…');
            const tag = await scanTag({ timeoutMs: 30_000 });
            const found = tokenSerialFromTag(tag);
            if (found) serial.value = found;
            say(
              status,
              found
                ? `Card ${found} read; now type the code it shows.`
                : `Card ${tag.serialNumber} read, but it carries no token serial: type the serial printed on it.`,
              found ? 'ok' : 'info',
            );
            (found ? code : serial).focus();
          }),
        },
        'Tap the card (NFC)',
      )
    : null;
  return actionForm(
    'enroll',
    'Claim a hardware token',
    [
      ['Serial number of the token', serial],
      ['Code shown on the token', code],
    ],
    'Claim the token',
    h('div', {}, tapNote, tap ?? ''),
  );
}

/** The server asks for the current password (none for a user who has none yet and signed in by emailed code). */
function changePasswordForm(): HTMLElement {
  const current = input('current-password', 'password', { name: 'currentPassword', autocomplete: 'current-password' });
  const next = input('new-password', 'password', { name: 'password', autocomplete: 'new-password', minlength: '8' });
  const hint = h('p', { id: 'current-password-hint' }, 'Leave the current password empty if you have none yet.');
  return actionForm(
    'change-password',
    'Change your password',
    [
      ['Current password', current],
      ['New password (at least 8 characters)', next],
    ],
    'Change the password',
    hint,
  );
}

/** The forms of the token actions the Resource allows, for the token the user holds (or none). */
function tokenForms(allowed: Set<string>, token: Overview['token']): HTMLElement[] {
  const forms: HTMLElement[] = [];
  if (allowed.has('enroll') && (!token || token.state === 'assigned')) forms.push(enrollForm());
  if (allowed.has('assign-existing') && !token)
    forms.push(
      actionForm(
        'assign-existing',
        'Take a registered token',
        [['Serial number', input('existing-serial', 'text', { name: 'serial' })]],
        'Take the token',
      ),
    );
  if (allowed.has('synchronize') && token)
    forms.push(
      actionForm(
        'synchronize',
        'Synchronize your token',
        [
          ['First code', input('code1')],
          ['Next code', input('code2')],
        ],
        'Synchronize',
      ),
    );
  if (allowed.has('reissue') && token?.state === 'enrolled')
    forms.push(actionForm('reissue', 'Prove your token again', [], 'Reissue'));
  if (allowed.has('unassign') && token)
    forms.push(actionForm('unassign', 'Give the token back', [], 'Unassign my token'));
  return forms;
}

/** The forms of the changes to the user's own details the Resource allows. */
function userForms(allowed: Set<string>): HTMLElement[] {
  const forms: HTMLElement[] = [];
  if (allowed.has('change-password')) forms.push(changePasswordForm());
  if (allowed.has('change-email'))
    forms.push(
      actionForm('change-email', 'Change your email', [['New email', input('email', 'email')]], 'Change the email'),
    );
  if (allowed.has('change-phone'))
    forms.push(
      actionForm('change-phone', 'Change your phone', [['New phone', input('phone', 'tel')]], 'Change the phone'),
    );
  if (allowed.has('change-name'))
    forms.push(actionForm('change-name', 'Change your name', [['New name', input('name')]], 'Change the name'));
  return forms;
}

function signOutButton(): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      id: 'signout',
      onclick: showingErrors(async () => {
        await api(`${base}/signout`, {});
        pageSession = '';
        signInForm();
      }),
    },
    'Sign out',
  );
}

/** The signed-in page: the user's token, then one form per allowed action. */
async function showPortal(): Promise<void> {
  const o = await api<Overview>(`${base}/me`);
  // The page is bound to the session it first showed; a later /me under another cookie does not rebind it.
  if (!pageSession) pageSession = o.sessionTag ?? '';
  const allowed = new Set(o.actions);
  const forms = [...tokenForms(allowed, o.token), ...userForms(allowed)];
  const nothing = o.actions.length ? 'Nothing to do here now.' : 'This Resource allows no self-service actions.';
  page(
    h(
      'section',
      { 'aria-labelledby': 'mine-h' },
      h('h2', { id: 'mine-h' }, 'Your token'),
      h(
        'p',
        { id: 'my-token' },
        o.token ? `Token ${o.token.serial}: ${o.token.state}.` : 'You have no token in this Resource yet.',
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'actions-h' },
      h('h2', { id: 'actions-h' }, 'What you can do'),
      ...(forms.length ? forms : [h('p', { id: 'nothing-to-do' }, nothing)]),
    ),
    h('div', { class: 'actions' }, signOutButton()),
  );
}

showPortal().catch(() => signInForm());

/** The console's audit log: filters, the hash-chain check and its result, and the rows as CSV. */
import { field, h, say } from './dom.js';
import { csvButton, heading, pageStatus, sayError, section, table, when } from './admin-common.js';
import { detailText } from './admin-tokens.js';
import { api } from './station-session.js';

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

/** The hash-chain check: a button and the sentence of its result. */
function verifySection(): HTMLElement {
  const verifyResult = h('p', { id: 'verify-result', class: 'status', role: 'status', 'aria-live': 'polite' });
  const verify = async () => {
    try {
      const r = await api<{ ok: boolean; rows: number; firstBad?: { seq: number; problem: string } }>(
        '/api/admin/audit/verify',
      );
      say(
        verifyResult,
        r.ok
          ? `The audit chain is intact: ${r.rows} rows, none edited, deleted or reordered.`
          : `The audit chain is broken at row ${r.firstBad!.seq}: ${r.firstBad!.problem}.`,
        r.ok ? 'ok' : 'error',
      );
    } catch (e) {
      sayError(verifyResult, e);
    }
  };
  return section(
    'audit-verify',
    'Check the hash chain',
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', id: 'verify', onclick: () => void verify() }, 'Verify the audit log'),
    ),
    verifyResult,
  );
}

/** The filter form; `query` is what it holds as URL parameters. */
function auditFilters(refresh: () => Promise<void>) {
  const input = (id: string, name: string, placeholder?: string) =>
    h('input', { id, type: 'text', name, autocomplete: 'off', placeholder });
  const action = input('audit-action', 'action', 'token.assign');
  const subject = input('audit-subject', 'subject', 'token:1234567');
  const actor = input('audit-actor', 'actor');
  const form = h(
    'form',
    { id: 'audit-filters', class: 'filters' },
    field('Action', action),
    field('About (subject)', subject),
    field('Who (actor)', actor),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'audit-filter' }, 'Show')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void refresh();
  });
  const query = () =>
    new URLSearchParams({ action: action.value.trim(), subject: subject.value.trim(), actor: actor.value.trim() });
  return { form, query };
}

export async function renderAudit(view: HTMLElement): Promise<void> {
  const status = pageStatus('audit-status');
  const list = h('div', { id: 'audit-list' });
  const filters = auditFilters(() => refresh());
  const refresh = async () => {
    try {
      const rows = await api<AuditRow[]>(`/api/admin/audit?${filters.query()}`);
      list.replaceChildren(
        table(
          'audit',
          'Audit rows, oldest first (the last 500 that match)',
          ['#', 'When', 'Who', 'What', 'About', 'Details'],
          rows.map((r) => [r.seq, when(r.at), r.actor, r.action, r.subject, detailText(r.details)]),
          'No audit rows match.',
        ),
      );
    } catch (e) {
      sayError(status, e);
    }
  };
  const csv = csvButton(
    'audit-csv',
    'Download these rows as CSV',
    () => `/api/admin/audit.csv?${filters.query()}`,
    'audit.csv',
    status,
  );
  view.replaceChildren(
    heading('Audit log'),
    status,
    verifySection(),
    section('audit-rows', 'Rows', filters.form, h('div', { class: 'actions' }, csv), list),
  );
  await refresh();
}

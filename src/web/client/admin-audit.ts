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

export async function renderAudit(view: HTMLElement): Promise<void> {
  const status = pageStatus('audit-status');
  const verifyResult = h('p', { id: 'verify-result', class: 'status', role: 'status', 'aria-live': 'polite' });
  const action = h('input', {
    id: 'audit-action',
    type: 'text',
    name: 'action',
    autocomplete: 'off',
    placeholder: 'token.assign',
  });
  const subject = h('input', {
    id: 'audit-subject',
    type: 'text',
    name: 'subject',
    autocomplete: 'off',
    placeholder: 'token:1234567',
  });
  const actor = h('input', { id: 'audit-actor', type: 'text', name: 'actor', autocomplete: 'off' });
  const list = h('div', { id: 'audit-list' });
  const query = () =>
    new URLSearchParams({ action: action.value.trim(), subject: subject.value.trim(), actor: actor.value.trim() });
  const refresh = async () => {
    try {
      const rows = await api<AuditRow[]>(`/api/admin/audit?${query()}`);
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
  const filters = h(
    'form',
    { id: 'audit-filters', class: 'filters' },
    field('Action', action),
    field('About (subject)', subject),
    field('Who (actor)', actor),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'audit-filter' }, 'Show')),
  );
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void refresh();
  });
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
  view.replaceChildren(
    heading('Audit log'),
    status,
    section(
      'audit-verify',
      'Check the hash chain',
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', id: 'verify', onclick: () => void verify() }, 'Verify the audit log'),
      ),
      verifyResult,
    ),
    section(
      'audit-rows',
      'Rows',
      filters,
      h(
        'div',
        { class: 'actions' },
        csvButton(
          'audit-csv',
          'Download these rows as CSV',
          () => `/api/admin/audit.csv?${query()}`,
          'audit.csv',
          status,
        ),
      ),
      list,
    ),
  );
  await refresh();
}

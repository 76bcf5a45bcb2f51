/**
 * The console's audit log (filters, verify, CSV) and reports (tokens by
 * state, model and Resource; assigned but never enrolled; clock drift), each
 * also as CSV. Read-only: they read the store as `audit list|verify` do.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { NotFoundError } from '../core/errors.js';
import type { AuditRecord, Store } from '../store/types.js';

type AuditQuery = { Querystring: { action?: string; subject?: string; actor?: string; limit?: string } };

/** At most this many rows on the page; the CSV carries the same filters. */
const PAGE_ROWS = 500;

function sendCsv(reply: FastifyReply, name: string, csv: string): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('Content-Disposition', `attachment; filename="${name}.csv"`)
    .send(csv);
}

async function auditRows(store: Store, q: AuditQuery['Querystring']): Promise<AuditRecord[]> {
  const limit = Math.min(Number(q.limit) > 0 ? Math.floor(Number(q.limit)) : PAGE_ROWS, 100_000);
  const rows = await store.audit.list({
    subject: q.subject?.trim() || undefined,
    action: q.action?.trim() || undefined,
    // The actor filter is applied below; the limit then counts the rows that pass it.
    limit: q.actor?.trim() ? undefined : limit,
  });
  const actor = q.actor?.trim().toLowerCase();
  const kept = actor ? rows.filter((r) => r.actor.toLowerCase().includes(actor)) : rows;
  return kept.slice(-limit);
}

export function registerAuditRoutes(app: FastifyInstance, store: Store): void {
  app.get<AuditQuery>('/api/admin/audit', async (req) => auditRows(store, req.query));

  app.get('/api/admin/audit/verify', async () => store.audit.verify());

  app.get<AuditQuery>('/api/admin/audit.csv', async (req, reply) => {
    const { toCsv } = await import('../provision/reports.js');
    const rows = await auditRows(store, { ...req.query, limit: req.query.limit ?? '100000' });
    const cols = ['seq', 'at', 'actor', 'action', 'subject', 'details', 'hash'];
    return sendCsv(reply, 'audit', toCsv(rows, cols));
  });

  app.get('/api/admin/reports', async () => {
    const { assignedNotEnrolled, driftReport, tokenCounts } = await import('../provision/reports.js');
    return {
      ...(await tokenCounts(store)),
      notEnrolled: await assignedNotEnrolled(store),
      drift: await driftReport(store),
    };
  });

  app.get<{ Params: { report: string } }>('/api/admin/reports/:report', async (req, reply) => {
    const rep = await import('../provision/reports.js');
    const name = req.params.report.replace(/\.csv$/, '');
    const counts = () => rep.tokenCounts(store);
    const tables: Record<string, () => Promise<object[]>> = {
      'tokens-by-state': async () => (await counts()).byState.map((r) => ({ state: r.key, tokens: r.count })),
      'tokens-by-model': async () => (await counts()).byModel.map((r) => ({ model: r.key, tokens: r.count })),
      'tokens-by-resource': async () => (await counts()).byResource.map((r) => ({ resource: r.key, tokens: r.count })),
      'not-enrolled': () => rep.assignedNotEnrolled(store),
      'drift-tokens': async () => (await rep.driftReport(store)).tokens,
      'drift-models': async () => (await rep.driftReport(store)).models,
    };
    const make = tables[name];
    if (!make) throw new NotFoundError(`no report '${name}': use ${Object.keys(tables).join(', ')}`);
    return sendCsv(reply, name, rep.toCsv(await make()));
  });
}

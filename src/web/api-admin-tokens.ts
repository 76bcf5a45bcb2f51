/**
 * The console's token page: the token, its history (its audit rows), and
 * the admin's moves on it: assign, unassign, lost, revoke (and the other
 * life-cycle moves), resync with two codes; the services of `assign`,
 * `unassign`, `tokens lost|revoke|...` and `tokens resync`, as the operator.
 */
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { requiredText, text } from './api-admin-fields.js';
import { storeOf } from './http.js';

type TokenReq = { Params: { serial: string }; Querystring: { manufacturer?: string } };

/** `?manufacturer=` tells tokens of one serial apart, as --manufacturer does. */
const manufacturerOf = (q: { manufacturer?: string }) => q.manufacturer;

export function registerTokenRoutes(app: FastifyInstance, store: Store): void {
  app.get<TokenReq>('/api/admin/tokens/:serial', async (req) => {
    const { findToken, viewToken } = await import('../provision/tokens.js');
    const t = await findToken(store, req.params.serial, manufacturerOf(req.query));
    const history = await store.audit.list({ subject: `token:${t.serial}` });
    return { token: await viewToken(store, t), history };
  });

  app.post<TokenReq>('/api/admin/tokens/:serial/assign', async (req) => {
    const { assignToken } = await import('../provision/assign.js');
    return assignToken(storeOf(req, store), {
      serial: req.params.serial,
      login: requiredText(req.body, 'login'),
      resource: requiredText(req.body, 'resource'),
      manufacturer: manufacturerOf(req.query),
    });
  });

  app.post<TokenReq>('/api/admin/tokens/:serial/unassign', async (req) => {
    const { unassignToken } = await import('../provision/assign.js');
    return unassignToken(storeOf(req, store), req.params.serial, { manufacturer: manufacturerOf(req.query) });
  });

  /** lost, revoke, disable, enable, retire: the state machine refuses what it does not allow, in words. */
  app.post<TokenReq>('/api/admin/tokens/:serial/state', async (req) => {
    const { LIFECYCLE_ACTIONS, changeTokenState } = await import('../provision/lifecycle.js');
    const action = requiredText(req.body, 'action');
    if (!(LIFECYCLE_ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`unknown move '${action}': use ${LIFECYCLE_ACTIONS.join(', ')}`, 'bad-field');
    return changeTokenState(storeOf(req, store), req.params.serial, action as (typeof LIFECYCLE_ACTIONS)[number], {
      manufacturer: manufacturerOf(req.query),
      reason: text(req.body, 'reason'),
    });
  });

  app.post<TokenReq>('/api/admin/tokens/:serial/resync', async (req) => {
    const { parseCodePair, resyncToken } = await import('../provision/lifecycle.js');
    const codes = parseCodePair([requiredText(req.body, 'code1'), requiredText(req.body, 'code2')]);
    return resyncToken(storeOf(req, store), req.params.serial, codes, { manufacturer: manufacturerOf(req.query) });
  });
}

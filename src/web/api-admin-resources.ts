/**
 * The console's Resources: list, create, one Resource's page and its Save.
 * Each route calls the service the CLI calls (`resource create|show|allow|
 * deny|set`), as the paired operator.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/types.js';
import { names, requiredText, text, whole } from './api-admin-fields.js';
import { storeOf } from './http.js';

type NameParams = { Params: { name: string } };

export function registerResourceRoutes(app: FastifyInstance, store: Store): void {
  app.get('/api/admin/resources', async () => {
    const { listResources } = await import('../provision/resources.js');
    return listResources(store);
  });

  app.post('/api/admin/resources', async (req) => {
    const { createResource, viewResource } = await import('../provision/resources.js');
    const b = req.body;
    const as = storeOf(req, store);
    const r = await createResource(as, {
      name: requiredText(b, 'name'),
      url: text(b, 'url'),
      lockAfter: whole(b, 'lockAfter'),
      window: whole(b, 'window'),
      syncWindow: whole(b, 'syncWindow'),
    });
    return viewResource(as, r);
  });

  app.get<NameParams>('/api/admin/resources/:name', async (req) => {
    const { findResource, viewResource } = await import('../provision/resources.js');
    return viewResource(store, await findResource(store, req.params.name));
  });

  /** Save: exactly these actions and token types, and these limits; answers what changed. */
  app.post<NameParams>('/api/admin/resources/:name', async (req) => {
    const { saveResourceRules } = await import('../provision/resource-settings.js');
    const b = req.body;
    return saveResourceRules(storeOf(req, store), req.params.name, {
      actions: names(b, 'actions'),
      tokenTypes: names(b, 'tokenTypes'),
      // An empty address clears it; no address at all leaves it.
      url: text(b, 'url') ?? ((b as { url?: unknown } | null)?.url === '' ? '' : undefined),
      lockAfter: whole(b, 'lockAfter'),
      window: whole(b, 'window'),
      syncWindow: whole(b, 'syncWindow'),
    });
  });
}

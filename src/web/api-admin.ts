/**
 * The console's admin API (issue 24): Resources, users, tokens, audit and
 * reports, under /api/admin/. None is public: every route passes the same
 * pairing, Host, Origin and session check as the station's other routes.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/types.js';
import { registerAuditRoutes } from './api-admin-audit.js';
import { registerResourceRoutes } from './api-admin-resources.js';
import { registerTokenRoutes } from './api-admin-tokens.js';
import { registerUserRoutes } from './api-admin-users.js';

export function registerAdminApi(app: FastifyInstance, store: Store): void {
  registerResourceRoutes(app, store);
  registerUserRoutes(app, store);
  registerTokenRoutes(app, store);
  registerAuditRoutes(app, store);
}

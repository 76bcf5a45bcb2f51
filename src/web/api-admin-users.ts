/**
 * The console's Users: search, one user with their Resources and tokens,
 * add, import a CSV, join and leave Resources; the services of `user add|
 * import|join|leave`, as the paired operator.
 */
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { flag, names, requiredText, text } from './api-admin-fields.js';
import { storeOf } from './http.js';

type LoginParams = { Params: { login: string } };

/** A CSV of users is at most this long (characters). */
const IMPORT_MAX = 4 * 1024 * 1024;

export function registerUserRoutes(app: FastifyInstance, store: Store): void {
  app.get<{ Querystring: { q?: string; resource?: string } }>('/api/admin/users', async (req) => {
    const { listUsers } = await import('../provision/users.js');
    const q = (req.query.q ?? '').trim().toLowerCase();
    const all = await listUsers(store, { resource: req.query.resource || undefined });
    // Login, name, email or phone contain the search text.
    return q ? all.filter((u) => [u.login, u.name, u.email, u.phone].some((v) => v?.toLowerCase().includes(q))) : all;
  });

  app.get<LoginParams>('/api/admin/users/:login', async (req) => {
    const { findUser, viewUser } = await import('../provision/users.js');
    return viewUser(store, await findUser(store, req.params.login));
  });

  app.post('/api/admin/users', async (req) => {
    const { addUser, viewUser } = await import('../provision/users.js');
    const b = req.body;
    const as = storeOf(req, store);
    const u = await addUser(as, {
      login: requiredText(b, 'login'),
      name: text(b, 'name'),
      email: text(b, 'email'),
      phone: text(b, 'phone'),
      password: text(b, 'password'),
      resources: names(b, 'resources'),
    });
    return viewUser(as, u);
  });

  /** A CSV of users (the file's text), all or nothing; the report lists each bad line. */
  app.post('/api/admin/users/import', async (req) => {
    const { importUsers } = await import('../provision/users-import.js');
    const b = req.body as { csv?: unknown } | null;
    if (typeof b?.csv !== 'string' || b.csv.length > IMPORT_MAX)
      throw new UsageError(`send the CSV as {fileName, csv} (at most ${IMPORT_MAX} characters)`, 'bad-field');
    const fileName = (text(b, 'fileName') ?? 'users.csv').replace(/[^\w.-]/g, '_');
    return importUsers(storeOf(req, store), fileName, { text: b.csv });
  });

  app.post<LoginParams>('/api/admin/users/:login/membership', async (req) => {
    const { setMembership, viewUser } = await import('../provision/users.js');
    const as = storeOf(req, store);
    const u = await setMembership(as, req.params.login, requiredText(req.body, 'resource'), flag(req.body, 'join'));
    return viewUser(as, u);
  });

  // MERGE: user edit | remove | reset-password (admin) and the directory "Sync now" routes go here when those services land.
}

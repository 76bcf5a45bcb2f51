/**
 * The station's JSON API: readers, the inventory, Resources and their users,
 * and seed-file import. Each route calls the service the CLI calls; what
 * changes the store acts as the paired operator (their name in the audit).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { registerAdminApi } from './api-admin.js';
import type { ReaderHub } from './readers.js';
import { sendError, storeOf } from './http.js';

export interface StationDeps {
  store: Store;
  hub: ReaderHub;
}

export function registerStationApi(app: FastifyInstance, deps: StationDeps): void {
  registerDeviceRoutes(app, deps);
  registerListRoutes(app, deps.store);
  registerImportRoute(app, deps.store);
  registerAdminApi(app, deps.store);
}

/** The host's readers and the models the flash form offers. */
function registerDeviceRoutes(app: FastifyInstance, { hub }: StationDeps): void {
  app.get('/api/readers', async (_req, reply) => {
    try {
      return await hub.list();
    } catch (e) {
      return sendError(reply, e);
    }
  });

  /** The model select: every model of the registry, why a family cannot be flashed, and each family's form fields. */
  app.get('/api/models', async () => {
    const { stationModels } = await import('../provision/flash-families.js');
    return stationModels();
  });
}

/** The inventory, and the Resources and users the station's selects offer. */
function registerListRoutes(app: FastifyInstance, store: Store): void {
  app.get<{ Querystring: { q?: string; state?: string; resource?: string; model?: string } }>(
    '/api/tokens',
    async (req) => {
      const { listTokens } = await import('../provision/tokens.js');
      const { q, state, resource, model } = req.query;
      // One statement, every filter (the search text too) applied in SQL.
      return listTokens(store, {
        state: state || undefined,
        resource: resource || undefined,
        model: model || undefined,
        search: q?.trim() || undefined,
      });
    },
  );

  app.get('/api/resources', async () => {
    const { listResources } = await import('../provision/resources.js');
    return (await listResources(store)).map((r) => ({ name: r.name, actions: r.actions, tokenTypes: r.tokenTypes }));
  });

  app.get<{ Querystring: { resource?: string } }>('/api/users', async (req) => {
    const { listUsers } = await import('../provision/users.js');
    return (await listUsers(store, { resource: req.query.resource || undefined })).map((u) => ({
      login: u.login,
      name: u.name,
    }));
  });
}

/** A dropped seed file: written to a private temp folder, imported by the import service, deleted. */
function registerImportRoute(app: FastifyInstance, store: Store): void {
  app.post<{
    Body: {
      fileName?: string;
      contentBase64?: string;
      password?: string;
      format?: string;
      resource?: string;
      onDuplicate?: string;
      dryRun?: boolean;
    };
  }>('/api/import', async (req) => {
    const b = req.body ?? {};
    if (typeof b.contentBase64 !== 'string' || !b.fileName)
      throw new UsageError('send the file as {fileName, contentBase64}');
    const { importSeedFile, importJson, parseFormat, parseOnDuplicate } = await import('../import/service.js');
    const dir = mkdtempSync(join(tmpdir(), 'tokensmith-upload-'));
    const file = join(dir, basename(b.fileName).replace(/[^\w.-]/g, '_') || 'upload');
    try {
      writeFileSync(file, Buffer.from(b.contentBase64, 'base64'), { mode: 0o600 });
      const summary = await importSeedFile(storeOf(req, store), {
        file,
        format: parseFormat(b.format || undefined),
        password: b.password || undefined,
        resource: b.resource || undefined,
        onDuplicate: parseOnDuplicate(b.onDuplicate || undefined),
        dryRun: Boolean(b.dryRun),
        // Parsing a hostile or large upload here would stall every other request of the station.
        parseOffThread: true,
      });
      return {
        ...importJson(summary),
        format: summary.format,
        file: b.fileName,
        parsedOffThread: summary.parsedOffThread === true,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * `tokensmith entra push`: tokens from the store into Entra ID. Each token is checked against what Entra can
 * hold before any call; the inventory is read once and tokens are found again by serial number, so a rerun
 * creates nothing twice; the rest go in chunks; then assignment and activation. Graph never returns a
 * token's secret, so "the same token" means: the twin's record in this store carries the digest of the seed
 * now in the store. A twin tokensmith did not upload, or one uploaded with another seed, is refused.
 */
import type { TokenState } from '../core/states.js';
import type { Store } from '../store/types.js';
import { listDevices, type GraphDevice } from './devices.js';
import type { GraphClient } from './graph.js';
import { assignAll } from './push-assign.js';
import { createMissing, recordTwin, type Candidate } from './push-create.js';
import { emptyReport, type PushReport } from './report.js';
import { entraRefusal } from './rules.js';

export interface PushOptions {
  resourceId?: number;
  serials?: string[];
  /** Any of these states (`--state a,b`). */
  states?: readonly TokenState[];
  assign?: boolean;
  activate?: boolean;
  dryRun?: boolean;
  chunkSize?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The tokens asked for, each with its seed and its tokensmith user; refusals go straight to the report. */
async function candidates(store: Store, opts: PushOptions, report: PushReport): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const filter = { states: opts.states, resourceId: opts.resourceId, serials: opts.serials };
  for await (const { token, seed, assignment } of store.tokens.iterateWithSeeds(filter)) {
    report.considered++;
    const reason = entraRefusal(token, seed);
    if (reason) {
      report.refused.push({ serial: token.serial, reason });
      continue;
    }
    const user = assignment ? await store.users.get(assignment.userId) : null;
    out.push({
      token,
      seed: seed!,
      digest: await store.entra.seedDigest(seed!),
      upn: user?.login.includes('@') ? user.login : null,
      mail: user?.email ?? null,
    });
  }
  return out;
}

/** Sorts candidates into "already there" and "to create"; refuses twins that are not this token. */
async function matchTwins(
  store: Store,
  cands: Candidate[],
  twins: Map<string, GraphDevice>,
  report: PushReport,
): Promise<{ there: Candidate[]; todo: Candidate[] }> {
  const there: Candidate[] = [];
  const todo: Candidate[] = [];
  for (const c of cands) {
    const twin = twins.get(c.token.serial);
    if (!twin) {
      todo.push(c);
      continue;
    }
    const rec = await store.entra.device(c.token.id);
    if (!rec?.seedDigest) {
      report.refused.push({
        serial: c.token.serial,
        reason:
          'in Entra already, not uploaded by tokensmith: Graph never returns the secret, so its seed cannot be compared',
      });
    } else if (rec.seedDigest !== c.digest) {
      report.refused.push({
        serial: c.token.serial,
        reason: 'its Entra twin holds a different seed (uploaded before the seed changed)',
      });
    } else {
      report.alreadyThere++;
      if (!report.dryRun) await recordTwin(store, c, twin);
      else c.twin = twin;
      there.push(c);
    }
  }
  return { there, todo };
}

/** Runs a push with an open Graph client; the report. */
export async function pushTokens(store: Store, graph: GraphClient, opts: PushOptions): Promise<PushReport> {
  const report = emptyReport(Boolean(opts.dryRun));
  const cands = await candidates(store, opts, report);
  if (cands.length > 0) {
    const { there, todo } = await matchTwins(store, cands, await listDevices(graph), report);
    if (opts.dryRun) report.created = todo.length;
    else {
      await createMissing(store, graph, todo, report, opts.chunkSize);
      if (opts.assign || opts.activate)
        await assignAll(
          store,
          graph,
          [...there, ...todo],
          { assign: Boolean(opts.assign), activate: Boolean(opts.activate), sleep: opts.sleep },
          report,
        );
    }
  }
  report.retries = graph.retries;
  if (!report.dryRun) {
    const { refused, failed, ...counts } = report;
    await store.audit.append({
      action: 'entra.push',
      subject: 'entra',
      details: { ...counts, refused, failed: failed.length },
    });
    report.auditRows++;
  }
  return report;
}

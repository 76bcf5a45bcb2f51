/**
 * The create step of a push: chunks of tokens in one `#$delta` request each. Before a chunk goes out its
 * tokens are recorded as 'sent'; after the answer each is recorded as Graph returned it. When a chunk fails,
 * the inventory is read again so the record says exactly which of its tokens reached Entra, and the next
 * chunk goes on.
 */
import { encodeBase32 } from '../core/codecs.js';
import type { Store, TokenRecord } from '../store/types.js';
import { createDevices, listDevices, type GraphDevice, type NewGraphDevice } from './devices.js';
import { GraphError, type GraphClient } from './graph.js';
import type { PushReport } from './report.js';

export interface Candidate {
  token: TokenRecord;
  seed: Buffer;
  digest: string;
  /** The tokensmith user's UPN and mail, when the token is assigned in tokensmith. */
  upn: string | null;
  mail: string | null;
  /** Its twin in Entra, once known. */
  twin?: GraphDevice;
}

export const DEFAULT_CHUNK = 100;

function newDevice(c: Candidate): NewGraphDevice {
  return {
    serialNumber: c.token.serial,
    manufacturer: c.token.manufacturer || 'unknown',
    model: c.token.model ?? 'unknown',
    secretKey: encodeBase32(c.seed),
    timeIntervalInSeconds: c.token.period,
    hashFunction: c.token.algorithm === 'sha256' ? 'hmacsha256' : 'hmacsha1',
    displayName: c.token.serial,
  };
}

/** Records a token's twin as Graph has it (its id and status), with the digest of the seed that was sent. */
export async function recordTwin(store: Store, c: Candidate, d: GraphDevice): Promise<void> {
  c.twin = d;
  await store.entra.recordDevice({
    tokenId: c.token.id,
    entraId: d.id,
    state: d.status,
    userRef: d.assignedTo?.id ?? null,
    seedDigest: c.digest,
  });
}

async function createChunk(store: Store, graph: GraphClient, chunk: Candidate[], report: PushReport): Promise<void> {
  await store.transaction(async (tx) => {
    for (const c of chunk)
      await tx.entra.recordDevice({ tokenId: c.token.id, state: 'sent', entraId: null, seedDigest: c.digest });
  });
  try {
    const made = new Map((await createDevices(graph, chunk.map(newDevice))).map((d) => [d.serialNumber, d]));
    for (const c of chunk) {
      const d = made.get(c.token.serial);
      if (d) await createdOne(store, c, d, report);
    }
    // A 2xx that left some out: the inventory tells.
    if (chunk.some((c) => !made.has(c.token.serial))) await reconcile(store, graph, chunk, report, null);
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    await reconcile(store, graph, chunk, report, err);
  }
}

async function createdOne(store: Store, c: Candidate, d: GraphDevice, report: PushReport): Promise<void> {
  await recordTwin(store, c, d);
  await store.audit.append({
    action: 'entra.create',
    subject: `token:${c.token.serial}`,
    details: { entraId: d.id, status: d.status },
  });
  report.created++;
  report.auditRows++;
}

/** After a failed chunk: reads the inventory and records each token of the chunk as it really is. */
async function reconcile(
  store: Store,
  graph: GraphClient,
  chunk: Candidate[],
  report: PushReport,
  cause: GraphError | null,
): Promise<void> {
  let now: Map<string, GraphDevice> | null = null;
  try {
    now = await listDevices(graph);
  } catch (err) {
    if (!(err instanceof GraphError)) throw err; // still unknown: the tokens stay 'sent' and the next push finds out
  }
  for (const c of chunk) {
    const d = now?.get(c.token.serial);
    if (d) {
      await createdOne(store, c, d, report);
      continue;
    }
    const code = cause?.graphCode ?? 'missing';
    const message = cause?.graphMessage ?? 'Graph answered without this token';
    if (now)
      await store.entra.recordDevice({ tokenId: c.token.id, state: 'not-in-entra', error: `${code}: ${message}` });
    report.failed.push({ serial: c.token.serial, step: 'create', code, message });
  }
}

/** Creates the candidates without a twin, chunk after chunk. */
export async function createMissing(
  store: Store,
  graph: GraphClient,
  todo: Candidate[],
  report: PushReport,
  chunkSize = DEFAULT_CHUNK,
): Promise<void> {
  for (let i = 0; i < todo.length; i += chunkSize)
    await createChunk(store, graph, todo.slice(i, i + chunkSize), report);
}

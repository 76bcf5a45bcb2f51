/**
 * The enrollment package of one Resource: its tokens streamed into a PSKC
 * document in memory (one Resource's tokens), the Resource's users and the
 * assignments alongside, written in one go (format: enrollment.ts).
 */
import { packageVersion } from '../core/version.js';
import type { Store } from '../store/types.js';
import {
  enrollmentResource,
  enrollmentUser,
  encodeEnrollmentPackage,
  seedsInfo,
  type EnrollmentContent,
  type EnrollmentToken,
} from './enrollment.js';
import { PskcWriter } from './pskc.js';
import type { TransportKeys } from './pskc-crypto.js';
import type { Selection } from './select.js';
import type { ExportSink } from './sink.js';
import { eachToken, type StreamResult } from './stream.js';

/** The enrollment package: built in memory (one Resource's tokens), then written in one go. */
export async function writeEnrollment(
  store: Store,
  sel: Selection,
  keys: TransportKeys | null,
  opts: { includePasswordHashes?: boolean },
  sink: ExportSink,
): Promise<StreamResult> {
  const resource = sel.resource!;
  const pskc = new PskcWriter({ keys, includeUser: true });
  const parts: string[] = [pskc.header()];
  const tokens: EnrollmentToken[] = [];
  const exportedIds = new Set<number>();
  const result = await eachToken(
    store,
    sel,
    (t) => pskc.refuse(t),
    async (t) => {
      parts.push(pskc.entry(t));
      const tok = t.token;
      exportedIds.add(tok.id);
      tokens.push({
        serial: tok.serial,
        manufacturer: tok.manufacturer,
        model: tok.model,
        kind: tok.kind,
        type: tok.type,
        algorithm: tok.algorithm,
        digits: tok.digits,
        period: tok.period,
        counter: tok.counter,
        driftSteps: tok.driftSteps,
        state: tok.state,
        user: t.user,
        keyId: tok.serial,
      });
    },
  );
  parts.push(pskc.footer());
  if (result.exported === 0) return result;

  const users = new Map<number, Awaited<ReturnType<Store['users']['get']>>>();
  for (const u of await store.users.list({ resourceId: resource.id })) users.set(u.id, u);
  const assignments = [];
  for (const a of await store.assignments.list({ resourceId: resource.id })) {
    if (!exportedIds.has(a.tokenId)) continue;
    const tok = (await store.tokens.get(a.tokenId))!;
    if (!users.has(a.userId)) users.set(a.userId, await store.users.get(a.userId));
    const u = users.get(a.userId);
    if (!u) continue;
    assignments.push({
      serial: tok.serial,
      manufacturer: tok.manufacturer,
      user: u.login,
      assignedAt: a.createdAt,
      enrolledAt: a.enrolledAt,
    });
  }
  const content: EnrollmentContent = {
    createdAt: new Date().toISOString(),
    createdBy: store.operator,
    generator: `tokensmith ${packageVersion()}`,
    resource: enrollmentResource(resource),
    users: [...users.values()]
      .filter((u): u is NonNullable<typeof u> => u !== null)
      .sort((a, b) => a.login.localeCompare(b.login))
      .map((u) => enrollmentUser(u, Boolean(opts.includePasswordHashes))),
    tokens,
    assignments,
    seeds: seedsInfo(keys, parts.join('')),
  };
  await sink.write(encodeEnrollmentPackage(content));
  return result;
}

/**
 * `tokensmith entra status`: tokensmith's view of each token and Entra's side by side (available, assigned,
 * activated, failedActivation), with what differs.
 */
import type { Store } from '../store/types.js';
import { listDevices, type GraphDevice } from './devices.js';
import type { GraphClient } from './graph.js';

export interface StatusRow {
  serial: string;
  /** tokensmith's token state and its record of the twin. */
  tokenState: string;
  user: string | null;
  recorded: string;
  recordedId: string | null;
  /** Entra's side: its status, or null when the serial is not there. */
  entra: GraphDevice['status'] | null;
  entraId: string | null;
  entraUser: string | null;
  differs: string[];
}

function differences(recorded: string, recordedId: string | null, d: GraphDevice | undefined): string[] {
  const out: string[] = [];
  if (!d) {
    if (recordedId) out.push('recorded in Entra, not found there');
    else out.push('not in Entra');
    return out;
  }
  if (!recordedId) out.push('in Entra, not recorded by tokensmith');
  else if (recordedId !== d.id) out.push(`Entra id ${d.id} is not the recorded ${recordedId}`);
  if (recordedId && recorded !== d.status) out.push(`recorded ${recorded}, Entra says ${d.status}`);
  return out;
}

export async function entraStatus(store: Store, graph: GraphClient, serials?: string[]): Promise<StatusRow[]> {
  const twins = await listDevices(graph);
  const records = new Map((await store.entra.devices()).map((r) => [r.tokenId, r]));
  const rows: StatusRow[] = [];
  for (const { token, assignment } of await store.tokens
    .inventory()
    .then((rs) => rs.map((r) => ({ token: r.token, assignment: r.user })))) {
    if (serials && !serials.includes(token.serial)) continue;
    const rec = records.get(token.id);
    const d = twins.get(token.serial);
    const recorded = rec?.state ?? 'not-in-entra';
    rows.push({
      serial: token.serial,
      tokenState: token.state,
      user: assignment,
      recorded,
      recordedId: rec?.entraId ?? null,
      entra: d?.status ?? null,
      entraId: d?.id ?? null,
      entraUser: d?.assignedTo?.displayName ?? d?.assignedTo?.id ?? null,
      differs: differences(recorded, rec?.entraId ?? null, d),
    });
  }
  return rows;
}

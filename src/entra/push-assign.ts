/**
 * The assign and activate steps of a push. The user is found in Entra by UPN, else by mail; the
 * verification code is computed from the stored seed at the server's time (its Date header), waiting for
 * the next step when the current one is about to end, so that Entra checks the code the token shows.
 */
import { generateCode } from '../core/otp.js';
import type { Store } from '../store/types.js';
import { activateDevice, assignAndActivateBySerial, assignDevice, findUser, serverNow } from './devices.js';
import { GraphError, type GraphClient } from './graph.js';
import type { Candidate } from './push-create.js';
import type { EntraFailure, PushReport } from './report.js';

/** Seconds left in the step below which tokensmith waits for the next one (request time and clock error). */
const MARGIN_S = 3;
/**
 * Seconds into a step before which the server may still be in the one before: the Date header has whole
 * seconds, so tokensmith's idea of the server's time can run up to half a second ahead of it.
 */
const LEAD_S = 1.5;

export interface AssignOptions {
  assign: boolean;
  activate: boolean;
  sleep?: (ms: number) => Promise<void>;
}

/** How long to wait so that the server's time sits well inside one step: not at its end, nor at its start. */
export function waitForSafeStepMs(serverNowMs: number, periodS: number): number {
  const into = (serverNowMs / 1000) % periodS;
  const left = periodS - into;
  if (left < MARGIN_S) return Math.ceil((left + LEAD_S) * 1000);
  if (into < LEAD_S) return Math.ceil((LEAD_S - into) * 1000);
  return 0;
}

/** The code the token shows at the server's time now, waiting out the edges of a step. */
async function serverCode(graph: GraphClient, c: Candidate, sleep: (ms: number) => Promise<void>): Promise<string> {
  const wait = waitForSafeStepMs(serverNow(graph), c.token.period);
  if (wait > 0) await sleep(wait);
  const at = new Date(serverNow(graph));
  return generateCode(c.seed, { ...c.token, counter: 0 }, { at });
}

class Users {
  private readonly ids = new Map<string, string | null>();
  constructor(private readonly graph: GraphClient) {}
  async id(c: Candidate): Promise<string | null> {
    const key = `${c.upn ?? ''}|${c.mail ?? ''}`;
    if (!this.ids.has(key)) this.ids.set(key, await findUser(this.graph, c.upn, c.mail));
    return this.ids.get(key)!;
  }
}

function failure(c: Candidate, step: EntraFailure['step'], err: GraphError): EntraFailure {
  return { serial: c.token.serial, step, code: err.graphCode, message: err.graphMessage };
}

/** Assigns (and activates) one token whose twin exists; records what happened. */
async function assignOne(
  store: Store,
  graph: GraphClient,
  c: Candidate,
  userId: string,
  opts: AssignOptions,
  report: PushReport,
): Promise<void> {
  const twin = c.twin!;
  const sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const name = c.token.serial;
  if (twin.status === 'available' && opts.activate) {
    await assignAndActivateBySerial(graph, userId, twin.serialNumber, await serverCode(graph, c, sleep), name);
    await done(store, c, userId, 'activated', report, { assigned: 1, activated: 1 });
  } else if (twin.status === 'available') {
    await assignDevice(graph, userId, twin.id, name);
    await done(store, c, userId, 'assigned', report, { assigned: 1, activated: 0 });
  } else if (opts.activate && (twin.status === 'assigned' || twin.status === 'failedActivation')) {
    if (twin.assignedTo?.id && twin.assignedTo.id !== userId) throw new AssignedElsewhere();
    // The reference's examples show the user's method id equal to the device id.
    await activateDevice(graph, userId, twin.id, await serverCode(graph, c, sleep), name);
    await done(store, c, userId, 'activated', report, { assigned: 0, activated: 1 });
  }
}

class AssignedElsewhere extends Error {}

async function done(
  store: Store,
  c: Candidate,
  userId: string,
  state: 'assigned' | 'activated',
  report: PushReport,
  counts: { assigned: number; activated: number },
): Promise<void> {
  await store.entra.recordDevice({ tokenId: c.token.id, state, userRef: userId });
  await store.audit.append({
    action: state === 'activated' ? 'entra.activate' : 'entra.assign',
    subject: `token:${c.token.serial}`,
    details: { entraId: c.twin!.id, user: c.upn ?? c.mail },
  });
  c.twin = { ...c.twin!, status: state, assignedTo: { id: userId } };
  report.assigned += counts.assigned;
  report.activated += counts.activated;
  report.auditRows++;
}

/** Assigns and activates every candidate that has a twin and a tokensmith user; a failure moves on to the next. */
export async function assignAll(
  store: Store,
  graph: GraphClient,
  cands: Candidate[],
  opts: AssignOptions,
  report: PushReport,
): Promise<void> {
  const users = new Users(graph);
  for (const c of cands) {
    if (!c.twin || (!c.upn && !c.mail)) continue;
    let userId: string | null;
    try {
      userId = await users.id(c);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      report.failed.push(failure(c, 'find-user', err));
      continue;
    }
    if (!userId) {
      report.failed.push({
        serial: c.token.serial,
        step: 'find-user',
        code: 'no-user',
        message: `no Entra user ${c.upn ?? c.mail}`,
      });
      continue;
    }
    try {
      await assignOne(store, graph, c, userId, opts, report);
    } catch (err) {
      if (err instanceof AssignedElsewhere) {
        report.failed.push({
          serial: c.token.serial,
          step: 'assign',
          code: 'assigned-elsewhere',
          message: 'assigned in Entra to another user',
        });
        continue;
      }
      if (!(err instanceof GraphError)) throw err;
      const step = opts.activate ? 'activate' : 'assign';
      report.failed.push(failure(c, step, err));
      await store.entra.recordDevice({
        tokenId: c.token.id,
        state: c.twin.status,
        error: `${err.graphCode}: ${err.graphMessage}`,
      });
    }
  }
}

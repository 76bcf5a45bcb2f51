/**
 * What the station's server and its API routes share: the request's operator
 * and how an error is answered. In its own module so the routes need not
 * import the server that registers them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokensmithError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { errorToWire } from '../transport/web/bridge.js';
import { storeForOperator } from './operator-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The paired operator this request acts for (set by the access check). */
    stationOperator?: string;
  }
}

/** The store as the request's operator: their name goes into the audit rows and batches it writes. */
export function storeOf(req: FastifyRequest, store: Store): Store {
  if (!req.stationOperator)
    throw new TokensmithError('this request is not paired to an operator', { code: 'not-paired', exitCode: 5 });
  return storeForOperator(store, req.stationOperator);
}

/** What an error looks like to the page: its message, code and the CLI's exit code; the HTTP status follows the exit code. */
export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  const wire = errorToWire(e);
  const status =
    e instanceof TokensmithError
      ? (({ 2: 400, 3: 502, 4: 422, 5: 403 } as Record<number, number>)[e.exitCode] ?? 500)
      : 500;
  return reply.code(status).send({ error: wire });
}

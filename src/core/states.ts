/**
 * The token life cycle, in one place. A service asks `nextState(from, event)`
 * and gets the new state or a StateError naming the rule; nothing else in the
 * code base decides which state follows which.
 *
 *   in_stock ──flash──> programmed ──assign──> assigned ──enroll──> enrolled
 *       └──────────────assign─────────────────────┘
 *   side states: disabled (enable returns to the state before), lost, revoked, retired (final)
 */
import { DataError, UsageError } from './errors.js';

export const TOKEN_STATES = [
  'in_stock',
  'programmed',
  'assigned',
  'enrolled',
  'disabled',
  'lost',
  'revoked',
  'retired',
] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

export const TOKEN_EVENTS = [
  'flash',
  'erase',
  'assign',
  'unassign',
  'enroll',
  'reissue',
  'disable',
  'enable',
  'lose',
  'revoke',
  'retire',
] as const;
export type TokenEvent = (typeof TOKEN_EVENTS)[number];

/** For events whose target depends on the token, the target is computed by `nextState`. */
type Target = TokenState | 'previous' | 'unassigned';

const TRANSITIONS: Record<TokenState, Partial<Record<TokenEvent, Target>>> = {
  in_stock: {
    flash: 'programmed',
    assign: 'assigned',
    disable: 'disabled',
    lose: 'lost',
    revoke: 'revoked',
    retire: 'retired',
  },
  programmed: {
    flash: 'programmed',
    erase: 'in_stock',
    assign: 'assigned',
    disable: 'disabled',
    lose: 'lost',
    revoke: 'revoked',
    retire: 'retired',
  },
  assigned: {
    flash: 'assigned',
    enroll: 'enrolled',
    unassign: 'unassigned',
    disable: 'disabled',
    lose: 'lost',
    revoke: 'revoked',
  },
  enrolled: { reissue: 'assigned', unassign: 'unassigned', disable: 'disabled', lose: 'lost', revoke: 'revoked' },
  disabled: { enable: 'previous', lose: 'lost', revoke: 'revoked', retire: 'retired' },
  lost: { enable: 'previous', revoke: 'revoked', retire: 'retired' },
  revoked: { retire: 'retired' },
  retired: {},
};

export class StateError extends DataError {
  constructor(message: string) {
    super(message, { code: 'illegal-transition' });
  }
}

export interface StateContext {
  /** The state before the token was disabled or lost (for `enable`). */
  previous?: TokenState | null;
  /** programmable tokens go back to `programmed` when unassigned, classic ones to `in_stock`. */
  kind?: 'programmable' | 'classic';
  /** Whether a seed is held (a programmable token without one is back in stock). */
  hasSeed?: boolean;
}

const WHY: Partial<Record<TokenState, string>> = {
  retired: 'a retired token is final',
  revoked: 'a revoked token can only be retired',
  disabled: 'enable it first',
  lost: 'enable it (when found) or revoke it first',
};

/** A device's seed erased: a token back in stock stays there (nothing to move); any other state must allow `erase` (unassign first). */
export function erasedState(from: TokenState): TokenState {
  return from === 'in_stock' ? from : nextState(from, 'erase');
}

export function nextState(from: TokenState, event: TokenEvent, ctx: StateContext = {}): TokenState {
  const target = TRANSITIONS[from][event];
  if (target === undefined) {
    const allowed = allowedEvents(from);
    const why = WHY[from] ? ` (${WHY[from]})` : '';
    throw new StateError(
      `cannot ${event} a token that is ${from}${why}; from ${from} the allowed actions are: ${allowed.length ? allowed.join(', ') : 'none'}`,
    );
  }
  if (target === 'previous') {
    const prev = ctx.previous;
    if (!prev || prev === 'disabled' || prev === 'lost')
      return ctx.kind === 'programmable' && ctx.hasSeed ? 'programmed' : 'in_stock';
    return prev;
  }
  if (target === 'unassigned') return ctx.kind === 'programmable' && ctx.hasSeed !== false ? 'programmed' : 'in_stock';
  return target;
}

export function allowedEvents(from: TokenState): TokenEvent[] {
  return Object.keys(TRANSITIONS[from]) as TokenEvent[];
}

export function isTokenState(s: string): s is TokenState {
  return (TOKEN_STATES as readonly string[]).includes(s);
}

/** `--state a,b`: one state or a comma list of them (exit 2 naming an unknown one); undefined for none given. */
export function parseStateList(text: string | undefined, flag = '--state'): TokenState[] | undefined {
  if (text === undefined) return undefined;
  const states = [...new Set(text.split(',').map((s) => s.trim().toLowerCase()))];
  for (const s of states)
    if (!isTokenState(s))
      throw new UsageError(
        `${flag}: unknown state '${s}'; use one or more of ${TOKEN_STATES.join(', ')}, comma-separated`,
      );
  return states as TokenState[];
}

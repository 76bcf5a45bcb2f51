import { describe, expect, it } from 'vitest';
import { DataError, ExitCode } from '../../src/core/errors.js';
import {
  allowedEvents,
  isTokenState,
  nextState,
  StateError,
  TOKEN_EVENTS,
  TOKEN_STATES,
  type TokenEvent,
  type TokenState,
} from '../../src/core/states.js';

/**
 * The legal transitions, written out here independently of src/core/states.ts,
 * so that a change to the life cycle has to change both. Targets that depend on
 * the token are written as 'previous' (enable) and 'unassigned' (unassign) and
 * checked separately below.
 */
const LEGAL: Record<TokenState, Partial<Record<TokenEvent, TokenState | 'previous' | 'unassigned'>>> = {
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

const pairs = TOKEN_STATES.flatMap((s) => TOKEN_EVENTS.map((e) => [s, e] as const));

describe('the token state machine', () => {
  it('has the states and events the data model names', () => {
    expect([...TOKEN_STATES].sort()).toEqual(Object.keys(LEGAL).sort());
    expect(TOKEN_EVENTS).toHaveLength(11);
  });

  it('covers every (state, event) pair: 8 states x 11 events', () => {
    expect(pairs).toHaveLength(TOKEN_STATES.length * TOKEN_EVENTS.length);
  });

  describe.each(pairs)('%s + %s', (from, event) => {
    const target = LEGAL[from][event];
    if (target === undefined) {
      it('is refused with a StateError (exit 4) naming the event, the state and the allowed actions', () => {
        let caught: unknown;
        try {
          nextState(from, event, { previous: 'assigned', kind: 'programmable', hasSeed: true });
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(StateError);
        expect(caught).toBeInstanceOf(DataError);
        const e = caught as StateError;
        expect(e.exitCode).toBe(ExitCode.data);
        expect(e.code).toBe('illegal-transition');
        expect(e.message).toContain(`cannot ${event} a token that is ${from}`);
        const allowed = Object.keys(LEGAL[from]);
        expect(e.message).toContain(`allowed actions are: ${allowed.length ? allowed.join(', ') : 'none'}`);
      });
    } else if (target === 'previous' || target === 'unassigned') {
      it(`is legal, with a target that depends on the token (${target})`, () => {
        expect(() => nextState(from, event, { previous: 'assigned', kind: 'classic', hasSeed: true })).not.toThrow();
      });
    } else {
      it(`goes to ${target} whatever the context`, () => {
        expect(nextState(from, event)).toBe(target);
        expect(nextState(from, event, { previous: 'enrolled', kind: 'programmable', hasSeed: false })).toBe(target);
      });
    }
  });

  it('lists the same allowed events as the table', () => {
    for (const s of TOKEN_STATES) expect(allowedEvents(s).sort()).toEqual(Object.keys(LEGAL[s]).sort());
  });

  it('explains why the side states refuse', () => {
    expect(() => nextState('retired', 'enable')).toThrow(/a retired token is final.*none/);
    expect(() => nextState('revoked', 'enable')).toThrow(/a revoked token can only be retired/);
    expect(() => nextState('disabled', 'assign')).toThrow(/enable it first/);
    expect(() => nextState('lost', 'assign')).toThrow(/enable it \(when found\) or revoke it first/);
  });
});

describe('side-state semantics', () => {
  it.each(['in_stock', 'programmed', 'assigned', 'enrolled'] as const)(
    'disable then enable returns to %s',
    (before) => {
      expect(nextState(before, 'disable')).toBe('disabled');
      expect(nextState('disabled', 'enable', { previous: before, kind: 'programmable', hasSeed: true })).toBe(before);
      expect(nextState('disabled', 'enable', { previous: before, kind: 'classic', hasSeed: true })).toBe(before);
    },
  );

  it.each(['in_stock', 'programmed', 'assigned', 'enrolled'] as const)(
    'a lost token found (enable) returns to %s',
    (before) => {
      expect(nextState(before, 'lose')).toBe('lost');
      expect(nextState('lost', 'enable', { previous: before })).toBe(before);
    },
  );

  it.each([
    [null, 'programmable', true, 'programmed'],
    [null, 'programmable', false, 'in_stock'],
    [null, 'classic', true, 'in_stock'],
    [undefined, 'programmable', true, 'programmed'],
    ['disabled', 'programmable', true, 'programmed'],
    ['lost', 'classic', true, 'in_stock'],
  ] as const)(
    'enable without a usable previous state (%s) falls back by kind: %s with seed %s -> %s',
    (previous, kind, hasSeed, want) => {
      expect(nextState('disabled', 'enable', { previous, kind, hasSeed })).toBe(want);
      expect(nextState('lost', 'enable', { previous, kind, hasSeed })).toBe(want);
    },
  );

  it.each(['assigned', 'enrolled'] as const)(
    'unassign from %s returns a programmable token with a seed to programmed, others to in_stock',
    (from) => {
      expect(nextState(from, 'unassign', { kind: 'programmable', hasSeed: true })).toBe('programmed');
      expect(nextState(from, 'unassign', { kind: 'programmable', hasSeed: false })).toBe('in_stock');
      expect(nextState(from, 'unassign', { kind: 'classic', hasSeed: true })).toBe('in_stock');
    },
  );

  it('the main path: in_stock -> programmed -> assigned -> enrolled -> (reissue) assigned', () => {
    let s: TokenState = 'in_stock';
    for (const [event, want] of [
      ['flash', 'programmed'],
      ['assign', 'assigned'],
      ['enroll', 'enrolled'],
      ['reissue', 'assigned'],
    ] as const) {
      s = nextState(s, event);
      expect(s).toBe(want);
    }
  });

  it('revoked can only be retired, and retired is final', () => {
    expect(nextState('revoked', 'retire')).toBe('retired');
    for (const e of TOKEN_EVENTS) expect(() => nextState('retired', e)).toThrow(StateError);
  });

  it('isTokenState knows the states and nothing else', () => {
    for (const s of TOKEN_STATES) expect(isTokenState(s)).toBe(true);
    for (const s of ['bogus', 'IN_STOCK', '', 'in-stock']) expect(isTokenState(s)).toBe(false);
  });
});

/** The station's access rules without a server: the Host allow-list, the Origin rule, the one-time code and the session. */
import { hostname, networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { PairingState, allowedHosts, checkAccess, cookieValue, sessionSecretOf } from '../../src/web/pairing.js';

const PORT = 8417;
const ORIGIN = `http://127.0.0.1:${PORT}`;

function paired(operator = 'alice'): { pairing: PairingState; secret: string } {
  const pairing = new PairingState('c'.repeat(32), operator);
  const r = pairing.pair('c'.repeat(32), undefined);
  if (!('secret' in r)) throw new Error(r.error);
  return { pairing, secret: r.secret };
}

describe('station access rules', () => {
  it('the Host allow-list always carries the port, and on 0.0.0.0 adds only this machine’s names', () => {
    const loop = allowedHosts('127.0.0.1', PORT);
    expect([...loop.hosts].sort()).toEqual([`127.0.0.1:${PORT}`, `[::1]:${PORT}`, `localhost:${PORT}`]);
    const wide = allowedHosts('0.0.0.0', PORT);
    expect(wide.hosts.has(`${hostname().toLowerCase()}:${PORT}`)).toBe(true);
    const v4 = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a?.family === 'IPv4');
    for (const a of v4) expect(wide.hosts.has(`${a!.address}:${PORT}`)).toBe(true);
    expect(wide.hosts.has(`0.0.0.0:${PORT}`)).toBe(false);
    expect([...wide.hosts].every((h) => h.endsWith(`:${PORT}`))).toBe(true);
    expect(allowedHosts('::', PORT).hosts.has(`[::]:${PORT}`)).toBe(false);
  });

  it('the code pairs once; a bad operator name or none (without --operator) leaves it unspent', () => {
    const p = new PairingState('x'.repeat(32));
    expect(p.pair('y'.repeat(32), 'bob')).toMatchObject({ errorCode: 'not-paired' });
    expect(p.pair('x'.repeat(32), undefined)).toMatchObject({ errorCode: 'operator-needed' });
    expect(p.pair('x'.repeat(32), 'bad\nname')).toMatchObject({ errorCode: 'bad-operator' });
    const ok = p.pair('x'.repeat(32), ' bob ');
    expect(ok).toMatchObject({ operator: 'bob' });
    expect(p.pair('x'.repeat(32), 'mallory')).toMatchObject({ errorCode: 'pairing-used' });
    expect(p.operatorOf((ok as { secret: string }).secret)).toBe('bob');
    expect(p.operatorOf('x'.repeat(32))).toBeUndefined();
    expect(() => new PairingState('x'.repeat(32), '')).toThrow(/--operator/);
  });

  it('the session comes from the bearer header or the socket subprotocol, never from a cookie', () => {
    expect(sessionSecretOf({ authorization: 'Bearer abc' })).toBe('abc');
    expect(sessionSecretOf({ 'sec-websocket-protocol': 'tokensmith, tokensmith-session.abc' })).toBe('abc');
    expect(sessionSecretOf({ cookie: 'tokensmith_pair=abc' })).toBeUndefined();
    expect(cookieValue('a=%E0%A4%A', 'a')).toBeUndefined();
  });

  it('checkAccess: Host first, then Origin (required to change anything, bearer or not), then the session', () => {
    const { pairing, secret } = paired();
    const allowed = allowedHosts('127.0.0.1', PORT);
    const base = { host: `127.0.0.1:${PORT}`, authorization: `Bearer ${secret}` };
    const check = (method: string, path: string, headers: Record<string, string>, upgrade = false) =>
      checkAccess({ method, path, headers, upgrade }, pairing, allowed);
    expect(check('GET', '/api/tokens', base)).toEqual({ ok: true, operator: 'alice' });
    expect(check('GET', '/api/tokens', { ...base, host: 'evil.example' }).status).toBe(421);
    expect(check('GET', '/api/tokens', { ...base, host: `127.0.0.1:${PORT + 1}` }).status).toBe(421);
    expect(check('GET', '/api/tokens', { ...base, origin: 'http://evil.example' }).status).toBe(403);
    expect(check('POST', '/api/import', base).status).toBe(403);
    expect(check('POST', '/api/import', { ...base, origin: ORIGIN })).toMatchObject({ ok: true });
    expect(check('GET', '/ws', base, true).status).toBe(403);
    expect(check('GET', '/api/tokens', { host: base.host }).status).toBe(401);
    expect(check('GET', '/api/tokens', { host: base.host, cookie: `tokensmith_pair=${secret}` }).status).toBe(401);
    expect(check('GET', '/', { host: base.host })).toEqual({ ok: true });
    expect(check('POST', '/api/pair', { host: base.host, origin: ORIGIN })).toEqual({ ok: true });
    expect(check('POST', '/api/pair', { host: base.host }).status).toBe(403);
  });
});

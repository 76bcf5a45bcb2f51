// @module-tag daemon
/**
 * The station's /api/import parses on the import service's worker thread,
 * whatever the upload's size, so a large or hostile file never holds the
 * request thread; and what it stores keeps T0 and the check digit.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, tokensmith } from '../cli/helpers.js';
import { pairSession, startServe, type Served } from './serve.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-import-'));
const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
let served: Served;
let auth: Record<string, string>;

// RFC 4226's labelled test seed, base64.
const SEED = Buffer.from('12345678901234567890').toString('base64');
const pskc = (n: number) =>
  `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">` +
  Array.from(
    { length: n },
    (_, i) =>
      `<KeyPackage><DeviceInfo><SerialNo>W${String(i).padStart(6, '0')}</SerialNo></DeviceInfo><Key Id="k${i}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">` +
      `<AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL" CheckDigits="true"/></AlgorithmParameters>` +
      `<Data><Secret><PlainValue>${SEED}</PlainValue></Secret><Time><PlainValue>1234567890</PlainValue></Time><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data></Key></KeyPackage>`,
  ).join('') +
  `</KeyContainer>`;

beforeAll(async () => {
  assertBuilt();
  served = await startServe(cliEnv(vars), ['--operator', 'importer']);
  auth = {
    authorization: `Bearer ${await pairSession(served)}`,
    origin: served.origin,
    'content-type': 'application/json',
  };
});
afterAll(async () => {
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const upload = (content: string, fileName: string) =>
  fetch(`${served.origin}/api/import`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ fileName, contentBase64: Buffer.from(content).toString('base64') }),
  });

describe('station import', () => {
  it('a small upload is parsed off the request thread too, and keeps T0 and the check digit', async () => {
    const r = await upload(pskc(2), 'small.pskcxml');
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ imported: 2, parsedOffThread: true });
    const show = await tokensmith(['--json', 'tokens', 'show', 'W000000'], vars);
    expect(JSON.parse(show.stdout)).toMatchObject({ t0: 1234567890, checkDigit: true });
  });

  it('an encrypted upload without its password is answered with the reason from the worker; with it, imported', async () => {
    const content = readFileSync(
      fileURLToPath(new URL('../../fixtures/seedfiles/rfc6030/figure7.xml', import.meta.url)),
      'utf8',
    );
    const none = await upload(content, 'figure7.xml');
    expect(none.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(await none.json())).toMatch(/encrypted with a password/);
    const r = await fetch(`${served.origin}/api/import`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        fileName: 'figure7.xml',
        contentBase64: Buffer.from(content).toString('base64'),
        password: 'qwerty',
      }),
    });
    expect(await r.json()).toMatchObject({ imported: 1, parsedOffThread: true });
  });

  it('while a 2 MB upload imports, other requests are answered', async () => {
    const big = pskc(4500);
    expect(big.length).toBeGreaterThan(2_000_000);
    const importing = upload(big.replace(/W0/g, 'B0'), 'big.pskcxml');
    let answered = 0;
    let done = false;
    void importing.then(() => (done = true));
    while (!done) {
      const r = await fetch(`${served.origin}/api/tokens`, { headers: { authorization: auth.authorization! } });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      answered++;
    }
    const body = await (await importing).json();
    expect(body).toMatchObject({ imported: 4500, parsedOffThread: true });
    expect(answered).toBeGreaterThan(1);
  }, 120_000);
});

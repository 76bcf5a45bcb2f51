// @module-tag daemon
/**
 * A Molto2 profile flashed from the station over the real PC/SC stack: the
 * server's own reader hub (nfc-pcsc -> pcscd -> vpcd) holds `tokensmith
 * simulate token2-molto2 --vpcd`; a page's socket connects the reader and
 * asks for the flash. The family is told by the simulator's ATR, the model
 * chosen on the form is checked against it, and the store ends up holding
 * the seed the simulated device holds.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32 } from '../../src/core/codecs.js';
import { findToken, viewToken } from '../../src/provision/tokens.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { BIN, assertBuilt } from '../cli/helpers.js';
import { ensurePcscd, lockVpcd, pcscMissing } from '../helpers/pcsc.js';
import { startSimulator } from '../helpers/simulator.js';

const missing = pcscMissing('the station Molto2 flash test');

describe.skipIf(missing !== null)(
  `station flashes a Molto2 over pcscd + vpcd${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokensmith-web-molto2-'));
    const env = { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
    let unlock: () => void = () => {};
    let stopPcscd: () => Promise<void> = async () => {};
    let store: Store;
    let server: WebServer;

    beforeAll(async () => {
      assertBuilt();
      unlock = await lockVpcd();
      stopPcscd = await ensurePcscd();
      store = await openStore({ db: join(dir, 't.db'), env });
      server = await startWebServer({ store, operator: 'molto2-test' });
    });

    afterAll(async () => {
      await server?.close();
      await store?.close();
      await stopPcscd();
      unlock();
      rmSync(dir, { recursive: true, force: true });
    });

    it('connect + flash of profile 5 through the bridge: the device and the store hold the same seed', async () => {
      const sim = await startSimulator({
        bin: BIN,
        env,
        model: 'token2-molto2',
        stateFile: join(dir, 'molto2.json'),
        args: ['--serial', '2310000555'],
        upWithinMs: 15_000,
      });
      const pair = await fetch(`${server.origin}/api/pair`, {
        method: 'POST',
        headers: { origin: server.origin, 'content-type': 'application/json' },
        body: JSON.stringify({ code: server.pairingToken }),
      });
      const { session } = (await pair.json()) as { session: string };
      const ws = new WebSocket(
        `${server.origin.replace('http', 'ws')}/ws`,
        ['tokensmith', `tokensmith-session.${session}`],
        { headers: { origin: server.origin } },
      );
      try {
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        const answers = new Map<number, (m: { ok: boolean; result?: any; error?: unknown }) => void>();
        ws.on('message', (raw) => {
          const m = JSON.parse(String(raw));
          if (m.event === undefined) answers.get(m.id)?.(m);
        });
        const request = (id: number, body: Record<string, unknown>) =>
          new Promise<{ ok: boolean; result?: any; error?: unknown }>(
            (resolve) => (answers.set(id, resolve), ws.send(JSON.stringify({ ...body, id }))),
          );
        const c = await request(1, { op: 'connect', reader: 'Virtual PCD 00 00', waitSeconds: 15 });
        expect(c.ok, JSON.stringify(c.error)).toBe(true);
        const r = await request(2, {
          op: 'flash',
          input: { model: 'token2-molto2', profile: '5', digits: '6', algorithm: 'sha1', title: 'Station' },
        });
        expect(r.ok, JSON.stringify(r.error)).toBe(true);
        expect(r.result).toMatchObject({
          serial: '2310000555-05',
          profile: 5,
          title: 'Station',
          reader: 'Virtual PCD 00 00',
        });
        const p5 = sim.state().profiles.find((p: { profile: number }) => p.profile === 5);
        const stored = await viewToken(store, await findToken(store, '2310000555-05'), { showSecret: true });
        expect(Buffer.from(decodeBase32(stored.secret!, 'secret')).toString('hex')).toBe(p5.seedHex);
        const row = (await store.audit.list()).find(
          (a) => a.action === 'token.flash' && a.subject === 'token:2310000555-05',
        );
        expect(row?.actor).toBe('station:molto2-test');
      } finally {
        ws.close();
        await sim.stop();
      }
    }, 90_000);
  },
);

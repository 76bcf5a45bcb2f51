/**
 * `npm run bench`: the host-side cost of one Token2 flash (driver alone, and
 * driver + SQLite store, against the in-memory simulator), the same flash over
 * the real PC/SC stack (nfc-pcsc -> pcscd -> vpcd -> simulator) when pcscd and
 * vpcd are there, and the number of commands per flash (the minimum is 7:
 * info, challenge, authenticate, config, challenge, authenticate, seed; we add
 * an info read-back as the check).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createCipheriv } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Token2Driver } from '../drivers/token2-nfc/driver.js';
import { Token2Simulator } from '../drivers/token2-nfc/simulator.js';
import { Sm4 } from '../src/core/sm4.js';
import { flashToken, parseFlashInput } from '../src/provision/families/token2-nfc/flash.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { pcscdUp, waitForPcscd } from '../src/transport/pcscd.js';
import { VpcdClient } from '../src/transport/vpcd.js';

const settings = { algorithm: 'sha256', period: 60, displayTimeout: 60 } as const;

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5).toFixed(3)} ms, p90 ${q(0.9).toFixed(3)} ms, min ${s[0]!.toFixed(3)} ms (n=${s.length})`;
}

async function timeEach(n: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

async function inMemory(): Promise<void> {
  let commands = 0;
  for (let i = 0; i < 20; i++)
    await new Token2Driver(new MemoryTransport(new Token2Simulator({ model: 'token2-card' }))).flash(
      randomBytes(32),
      settings,
    ); // warm-up
  const driverOnly = await timeEach(500, async () => {
    const d = new Token2Driver(new MemoryTransport(new Token2Simulator({ model: 'token2-card' })));
    const out = await d.flash(randomBytes(32), settings);
    commands = out.commands;
  });
  console.log(`flash, driver + in-memory simulator:          ${stats(driverOnly)}`);
  console.log(
    `commands per flash:                           ${commands} (minimum 7, plus 1 info read-back as the check)`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-'));
  const store = openSqliteStore({
    path: join(dir, 'bench.db'),
    env: { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') },
    operator: 'bench',
  });
  try {
    const input = parseFlashInput({ algorithm: 'sha256', period: '60', displayTimeout: '60' });
    const withStore = await timeEach(300, async (i) => {
      const sim = new Token2Simulator({ model: 'token2-card', serial: `865962200${String(i).padStart(5, '0')}` });
      await flashToken(store, new MemoryTransport(sim), input);
    });
    console.log(`flash, driver + SQLite store (file, sealed):  ${stats(withStore)}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sm4(): void {
  const key = randomBytes(16);
  const data = randomBytes(16 * 4096);
  const ts = new Sm4(key);
  let t = performance.now();
  ts.encryptEcb(data);
  const pure = performance.now() - t;
  t = performance.now();
  const c = createCipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  c.update(data);
  c.final();
  const ossl = performance.now() - t;
  console.log(
    `SM4-ECB, 64 KiB: pure TypeScript ${pure.toFixed(2)} ms, OpenSSL ${ossl.toFixed(2)} ms (a flash encrypts 6 blocks)`,
  );
}

async function overVpcd(): Promise<void> {
  const pcscd = ['/usr/sbin/pcscd', '/sbin/pcscd', '/usr/bin/pcscd'].find((p) => existsSync(p));
  if (!existsSync('/usr/lib/pcsc/drivers/serial/libifdvpcd.so') || (!pcscd && !(await pcscdUp()))) {
    console.log('flash over PC/SC + vpcd: skipped (pcscd or vsmartcard-vpcd is not installed)');
    return;
  }
  let started: ChildProcess | null = null;
  if (!(await pcscdUp())) {
    started = spawn(pcscd!, ['--foreground'], { stdio: 'ignore' });
    if (!(await waitForPcscd(10_000))) {
      console.log('flash over PC/SC + vpcd: skipped (pcscd did not come up; are you root?)');
      started.kill('SIGTERM');
      return;
    }
  }
  const { PcscContext } = await import('../src/transport/pcsc.js');
  const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042' });
  const card = new VpcdClient(sim);
  let ctx: Awaited<ReturnType<typeof PcscContext.open>> | null = null;
  try {
    await card.connectWithRetry(5000);
    ctx = await PcscContext.open();
    const transport = await ctx.select({ reader: 'Virtual PCD', waitSeconds: 5 });
    let commands = 0;
    const times = await timeEach(5, async () => {
      const out = await new Token2Driver(transport).flash(randomBytes(32), settings);
      commands = out.commands;
    });
    console.log(
      `flash over nfc-pcsc -> pcscd -> vpcd:         ${stats(times)}; ${(times.reduce((a, b) => a + b) / times.length / commands).toFixed(1)} ms per command`,
    );
    console.log(
      '  (vpcd answers in ~44 ms per exchange on loopback: Nagle + delayed ACK between pcscd and the simulator, not tokensmith)',
    );
  } finally {
    await ctx?.close();
    await card.close();
    if (started) await new Promise<void>((r) => (started!.once('exit', () => r()), started!.kill('SIGTERM')));
  }
}

await inMemory();
sm4();
await overVpcd();

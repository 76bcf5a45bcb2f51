/**
 * `npm run bench:import`: writes a 100,000-token encrypted PSKC file
 * (aes128-cbc, hmac-sha1, PBKDF2 as python-pskc writes it) and an Entra CSV
 * of the same size, imports each into a fresh store with the built CLI, and
 * prints time and peak RSS; where pskc2csv is installed it converts the same
 * PSKC file in the same run and prints the ratio.
 *
 *   npm run bench:import                       100,000 tokens
 *   npm run bench:import -- --tokens 1000000   another size
 *   npm run bench:import -- --scale            100,000 and 1,000,000 (linear time, flat memory)
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mainJs = join(root, 'dist', 'src', 'cli', 'main.js');
const PASSWORD = 'tokensmith-bench-password';

function base32(bytes: Buffer): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += A[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= 0xff;
  }
  if (bits > 0) out += A[(value << (5 - bits)) & 31];
  return out;
}

function aesCbc(key: Buffer, plain: Buffer): Buffer {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([iv, c.update(plain), c.final()]);
}

/** A PSKC file in python-pskc's layout: PBKDF2 key, random MAC key, aes128-cbc secrets with hmac-sha1 ValueMACs. */
export function writeEncryptedPskc(file: string, tokens: number): void {
  const salt = randomBytes(16);
  const iterations = 100_000;
  const key = pbkdf2Sync(PASSWORD, salt, iterations, 16, 'sha1');
  const macKey = randomBytes(20);
  const fd = openSync(file, 'w');
  const enc = 'http://www.w3.org/2001/04/xmlenc#aes128-cbc';
  writeSync(
    fd,
    `<?xml version="1.0" encoding="UTF-8"?>
<pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Version="1.0">
 <pskc:EncryptionKey>
  <xenc11:DerivedKey>
   <xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
    <xenc11:PBKDF2-params>
     <Salt>
      <Specified>${salt.toString('base64')}</Specified>
     </Salt>
     <IterationCount>${iterations}</IterationCount>
     <KeyLength>16</KeyLength>
    </xenc11:PBKDF2-params>
   </xenc11:KeyDerivationMethod>
  </xenc11:DerivedKey>
 </pskc:EncryptionKey>
 <pskc:MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
  <pskc:MACKey>
   <xenc:EncryptionMethod Algorithm="${enc}"/>
   <xenc:CipherData>
    <xenc:CipherValue>${aesCbc(key, macKey).toString('base64')}</xenc:CipherValue>
   </xenc:CipherData>
  </pskc:MACKey>
 </pskc:MACMethod>
`,
  );
  let chunk = '';
  for (let i = 0; i < tokens; i++) {
    const ct = aesCbc(key, randomBytes(20));
    const mac = createHmac('sha1', macKey).update(ct).digest('base64');
    chunk += ` <pskc:KeyPackage>
  <pskc:DeviceInfo>
   <pskc:Manufacturer>Bench</pskc:Manufacturer>
   <pskc:SerialNo>BENCH${String(i).padStart(8, '0')}</pskc:SerialNo>
  </pskc:DeviceInfo>
  <pskc:Key Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
   <pskc:AlgorithmParameters>
    <pskc:ResponseFormat Length="6"/>
   </pskc:AlgorithmParameters>
   <pskc:Data>
    <pskc:Secret>
     <pskc:EncryptedValue>
      <xenc:EncryptionMethod Algorithm="${enc}"/>
      <xenc:CipherData>
       <xenc:CipherValue>${ct.toString('base64')}</xenc:CipherValue>
      </xenc:CipherData>
     </pskc:EncryptedValue>
     <pskc:ValueMAC>${mac}</pskc:ValueMAC>
    </pskc:Secret>
    <pskc:TimeInterval>
     <pskc:PlainValue>30</pskc:PlainValue>
    </pskc:TimeInterval>
   </pskc:Data>
  </pskc:Key>
 </pskc:KeyPackage>
`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk + '</pskc:KeyContainer>\n');
  closeSync(fd);
}

export function writeEntraCsv(file: string, tokens: number): void {
  const fd = openSync(file, 'w');
  let chunk = 'upn,serial number,secret key,time interval,manufacturer,model\n';
  for (let i = 0; i < tokens; i++) {
    chunk += `user${i}@bench.example,ENTRA${String(i).padStart(8, '0')},${base32(randomBytes(20))},30,Bench,OTP-C200\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

interface Run {
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  stdout: string;
}

/** Runs the import in a child process that reports its own peak RSS and CPU time. */
function runImport(dir: string, file: string, extra: string[]): Run {
  const db = join(dir, `bench-${Math.random().toString(36).slice(2)}.db`);
  const args = ['--db', db, 'import', file, '--json', ...extra];
  const script = `import(${JSON.stringify(mainJs)}).then(async (m) => {
    const code = await m.main(['node', 'tokensmith', ...${JSON.stringify(args)}]);
    const cpu = process.cpuUsage();
    process.stderr.write('\\nBENCH ' + process.resourceUsage().maxRSS + ' ' + (cpu.user + cpu.system) / 1e6 + '\\n');
    process.exitCode = code;
  });`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = /BENCH (\d+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`import failed (exit ${r.status}): ${r.stderr.slice(0, 2000)}`);
  for (const s of ['', '-wal', '-shm', '.key']) rmSync(db + s, { force: true });
  return { seconds, cpuSeconds: Number(m[2]), peakRssMb: Number(m[1]) / 1024, stdout: r.stdout };
}

function hasPskc2csv(): boolean {
  return spawnSync('pskc2csv', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** pskc2csv on the same file; CPU time and peak RSS from GNU time when it is there. */
function runPskc2csv(
  dir: string,
  file: string,
): { seconds: number; cpuSeconds: number | null; peakRssMb: number | null } {
  const out = join(dir, 'pskc2csv.csv');
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', 'GNUTIME %U %S %M', 'pskc2csv', '-p', PASSWORD, '-o', out, file], {
        encoding: 'utf8',
      })
    : spawnSync('pskc2csv', ['-p', PASSWORD, '-o', out, file], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`pskc2csv failed: ${r.stderr.slice(0, 2000)}`);
  rmSync(out, { force: true });
  const m = /GNUTIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { seconds, cpuSeconds: m ? Number(m[1]) + Number(m[2]) : null, peakRssMb: m ? Number(m[3]) / 1024 : null };
}

const fmt = (n: number) => n.toFixed(2);

function main(): void {
  const argv = process.argv.slice(2);
  const sizeArg = argv.indexOf('--tokens');
  const sizes = argv.includes('--scale') ? [100_000, 1_000_000] : [sizeArg >= 0 ? Number(argv[sizeArg + 1]) : 100_000];
  if (!existsSync(mainJs)) throw new Error(`build first (npm run build): ${mainJs} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-import-'));
  const withPskc2csv = hasPskc2csv();
  const rows: string[] = [];
  try {
    for (const n of sizes) {
      const pskc = join(dir, `bench-${n}.pskc.xml`);
      let t = Date.now();
      writeEncryptedPskc(pskc, n);
      console.log(
        `wrote ${n} tokens of encrypted PSKC (aes128-cbc, hmac-sha1, PBKDF2) in ${((Date.now() - t) / 1000).toFixed(1)} s: ${(statSync(pskc).size / 1e6).toFixed(1)} MB`,
      );
      const imp = runImport(dir, pskc, ['--password', PASSWORD]);
      const json = JSON.parse(imp.stdout) as { imported: number };
      if (json.imported !== n) throw new Error(`imported ${json.imported} of ${n}`);
      rows.push(
        `pskc        ${String(n).padStart(9)}  import ${fmt(imp.seconds)} s wall, ${fmt(imp.cpuSeconds)} s CPU, peak RSS ${imp.peakRssMb.toFixed(0)} MB`,
      );
      console.log(rows[rows.length - 1]);
      if (withPskc2csv && n <= 100_000) {
        const ref = runPskc2csv(dir, pskc);
        const line =
          `pskc2csv    ${String(n).padStart(9)}  ${fmt(ref.seconds)} s wall` +
          (ref.cpuSeconds !== null ? `, ${fmt(ref.cpuSeconds)} s CPU, peak RSS ${ref.peakRssMb!.toFixed(0)} MB` : '') +
          `  -> tokensmith is ${(ref.seconds / imp.seconds).toFixed(1)}x faster (wall)` +
          (ref.cpuSeconds !== null ? `, ${(ref.cpuSeconds / imp.cpuSeconds).toFixed(1)}x (CPU)` : '');
        rows.push(line);
        console.log(line);
      } else if (!withPskc2csv) console.log('pskc2csv is not installed (Debian pskc-utils): no side-by-side ratio');
      rmSync(pskc, { force: true });

      const csv = join(dir, `bench-${n}.entra.csv`);
      t = Date.now();
      writeEntraCsv(csv, n);
      console.log(`wrote ${n} tokens of Entra CSV in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      const ci = runImport(dir, csv, []);
      rows.push(
        `entra-csv   ${String(n).padStart(9)}  import ${fmt(ci.seconds)} s wall, ${fmt(ci.cpuSeconds)} s CPU, peak RSS ${ci.peakRssMb.toFixed(0)} MB`,
      );
      console.log(rows[rows.length - 1]);
      rmSync(csv, { force: true });
    }
    console.log('\nsummary\n' + rows.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run only as a script, so the file writers can be imported by other benchmarks and profiling scripts.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

/**
 * Hostile XML against the scanner: one element with many attributes and a
 * deep nest of elements, each timed (wall clock) with the heap it reached.
 * `node dist/bench/xml-hostile.js`: prints one line per case.
 */
import { XmlScanner } from '../src/import/xml-scan.js';

function attributes(n: number): Buffer {
  const parts: string[] = ['<r'];
  for (let i = 0; i < n; i++) parts.push(` a${i}="1"`);
  parts.push('/>');
  return Buffer.from(parts.join(''));
}

function nest(bytes: number): Buffer {
  return Buffer.from('<a>'.repeat(Math.floor(bytes / 3)));
}

function run(name: string, file: Buffer): void {
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  let outcome = 'parsed';
  try {
    const s = new XmlScanner('bench.xml', () => false);
    for (let at = 0; at < file.length; at += 64 * 1024) s.write(file.subarray(at, at + 64 * 1024));
    s.close();
  } catch (err) {
    outcome = `refused: ${(err as Error).message.slice(0, 90)}`;
  }
  const ms = performance.now() - started;
  const mb = (process.memoryUsage().heapUsed - before) / 1e6;
  console.log(
    `${name} (${(file.length / 1e6).toFixed(1)} MB): ${ms.toFixed(0)} ms, heap +${mb.toFixed(0)} MB, ${outcome}`,
  );
}

run('80,000 attributes in one element', attributes(80_000));
run('1,000,000 attributes in one element', attributes(1_000_000));
run('2,000,000 attributes in one element', attributes(2_000_000));
run('60 MB of <a>', nest(60e6));

#!/usr/bin/env node
// One-off: rewrites version-1 (CBOR) cassettes as version-2 JSON text with decoded comments.
// Usage (after npm run build): node scripts/cassettes-to-text.mjs fixtures/cassettes/*.cassette
import { readCassette, writeCassette } from '../dist/src/transport/cassette.js';
import { familyOfModel } from '../dist/drivers/registry.js';

for (const path of process.argv.slice(2)) {
  const c = readCassette(path);
  const family = await familyOfModel(c.header.model ?? '', `${path}: model`);
  writeCassette(path, c, family.describe);
  console.log(`${path}: version ${c.header.version} -> text (${family.name})`);
}

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { nonUnitFiles, TIER_TAGS } from './test/helpers/tiers.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
// `npm run test:unit` sets this: only files that need no process, daemon or browser (test/helpers/tiers.ts).
const unit = process.env.TOKENSMITH_TEST_TIER === 'unit';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: unit ? ['**/node_modules/**', ...nonUnitFiles(ROOT)] : ['**/node_modules/**'],
    tags: TIER_TAGS.map((name) => ({ name })),
    setupFiles: unit ? ['test/helpers/unit-guard.ts'] : [],
    globalSetup: unit ? [] : ['test/helpers/pg-global-setup.ts'],
    // Native modules (better-sqlite3, pcsclite) are happiest in child processes.
    pool: 'forks',
    // The run ends with each reason tests were skipped for (test/helpers/skip-report.ts).
    reporters: ['default', './test/helpers/skip-report.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

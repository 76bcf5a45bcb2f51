// @module-tag subprocess
/** Two tokensmith processes at once against one SQLite file (WAL, busy timeout): the same invariants as on PostgreSQL (suite.ts). */
import { stationsSuite } from './suite.js';

stationsSuite({ name: 'sqlite', skip: null, writers: 2, perFile: 300, tokens: 40 });

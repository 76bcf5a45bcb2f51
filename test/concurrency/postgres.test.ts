// @module-tag postgres
/** Four tokensmith processes at once against one PostgreSQL database (the invariants are in suite.ts). */
import { skipPgReason } from '../helpers/postgres.js';
import { stationsSuite } from './suite.js';

stationsSuite({ name: 'postgres', skip: skipPgReason(), writers: 4, perFile: 400, tokens: 60 });

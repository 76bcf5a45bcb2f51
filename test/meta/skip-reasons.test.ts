/**
 * The end-of-run skip report (test/helpers/skip-report.ts) names each reason
 * once with its counts, finds a reason in a test's note, its own title, a
 * group's titled() title or a placeholder of its file, and lists the skipped
 * tests that give none.
 */
import { describe, expect, it } from 'vitest';
import { gatherSkipReasons, reasonInTitle, skipReportLines } from '../helpers/skip-reasons.js';
import { titled } from '../helpers/tools.js';

const PG = 'PostgreSQL is not installed (no initdb/pg_ctl on PATH): apt-get install postgresql';
const OATH = 'oathtool is not installed (apt-get install oathtool)';

describe('skip reasons', () => {
  it("reads titled()'s reason whole, parentheses inside it too, and a placeholder's", () => {
    expect(reasonInTitle(`${titled('oathtool agrees', OATH)} > HOTP at counter 0`)).toBe(OATH);
    expect(reasonInTitle(`'postgres' backend > skipped: ${PG}`)).toBe(PG);
    expect(reasonInTitle('the inventory > lists every token')).toBeNull();
  });

  it('groups by reason; a test without its own reason takes its file placeholder; none at all is listed', () => {
    const r = gatherSkipReasons([
      { file: 'a.test.ts', fullName: `'postgres' backend > skipped: ${PG}` },
      { file: 'a.test.ts', fullName: "'postgres' backend > reads back" },
      { file: 'b.test.ts', fullName: titled('group', PG) + ' > one' },
      { file: 'c.test.ts', fullName: 'codes > match', note: OATH },
      { file: 'd.test.ts', fullName: 'the schemas > match' },
    ]);
    expect([...r.byReason].map(([why, v]) => [why, v.tests, [...v.files]])).toEqual([
      [PG, 3, ['a.test.ts', 'b.test.ts']],
      [OATH, 1, ['c.test.ts']],
    ]);
    expect(r.unexplained).toEqual(['d.test.ts > the schemas > match']);
    const lines = skipReportLines(r);
    expect(lines[1]).toBe(`     3 in 2 files: ${PG}`);
    expect(lines.at(-1)).toBe('         d.test.ts > the schemas > match');
  });

  it('prints nothing when nothing was skipped', () => {
    expect(skipReportLines(gatherSkipReasons([]))).toEqual([]);
  });
});

/**
 * The reasons skipped tests give, gathered for the end of `npm test`
 * (test/helpers/skip-report.ts). A test gives its reason with `ctx.skip(note)`
 * or in its own title or a group's ("... (skipped: pcscd is not installed ...)",
 * see titled() in test/helpers/tools.ts); a test that gives none takes the
 * reason a placeholder test of its file gives (`it.skip('skipped: <why>')`).
 */

/** One skipped test as the reporter sees it. */
export interface SkippedTest {
  /** The test file, relative to the checkout. */
  file: string;
  /** Group titles and the test's title, joined by " > ". */
  fullName: string;
  /** The note passed to ctx.skip(note), if any. */
  note?: string | undefined;
}

export interface SkipReasons {
  /** Reason -> how many tests and which files skipped for it. */
  byReason: Map<string, { tests: number; files: Set<string> }>;
  /** Tests that give no reason, themselves or in their file ("file > name"). */
  unexplained: string[];
}

/** The reason a title (or one of its groups) gives: the text after "skipped: ", without titled()'s closing ")". */
export function reasonInTitle(fullName: string): string | null {
  for (const part of fullName.split(' > ')) {
    const at = part.indexOf('skipped: ');
    if (at < 0) continue;
    const why = part.slice(at + 'skipped: '.length).trim();
    return part.slice(0, at).endsWith('(') && why.endsWith(')') ? why.slice(0, -1) : why;
  }
  return null;
}

/** Groups the skipped tests by their reason; the ones without any are listed by name. */
export function gatherSkipReasons(tests: readonly SkippedTest[]): SkipReasons {
  const own = (t: SkippedTest) => t.note?.trim() || reasonInTitle(t.fullName);
  const fileReasons = new Map<string, Set<string>>();
  for (const t of tests) {
    const why = own(t);
    if (why) fileReasons.set(t.file, (fileReasons.get(t.file) ?? new Set()).add(why));
  }
  const byReason: SkipReasons['byReason'] = new Map();
  const unexplained: string[] = [];
  for (const t of tests) {
    const inFile = [...(fileReasons.get(t.file) ?? [])];
    const why = own(t) ?? (inFile.length ? inFile.join('; ') : null);
    if (!why) {
      unexplained.push(`${t.file} > ${t.fullName}`);
      continue;
    }
    const entry = byReason.get(why) ?? { tests: 0, files: new Set<string>() };
    entry.tests += 1;
    entry.files.add(t.file);
    byReason.set(why, entry);
  }
  return { byReason, unexplained };
}

/** The lines printed at the end of the run: each reason with its counts, then the tests that give none. */
export function skipReportLines(r: SkipReasons): string[] {
  if (r.byReason.size === 0 && r.unexplained.length === 0) return [];
  const rows = [...r.byReason].sort((a, b) => b[1].tests - a[1].tests);
  const lines = ['Skipped tests, by the reason they give:'];
  for (const [why, { tests, files }] of rows)
    lines.push(`  ${String(tests).padStart(4)} in ${files.size} file${files.size === 1 ? '' : 's'}: ${why}`);
  if (r.unexplained.length) {
    lines.push(
      `  ${String(r.unexplained.length).padStart(4)} skipped without a reason (give one: ctx.skip(why) or titled()):`,
    );
    for (const name of r.unexplained) lines.push(`         ${name}`);
  }
  return lines;
}

/**
 * A vitest reporter (next to the default one) that ends the run with why tests
 * were skipped: each reason once, with how many tests and files it stopped,
 * and any skipped test that gives no reason. Without it a whole skipped file
 * shows only as "↓ file (n skipped)". Quiet when a name filter (-t) or .only
 * skipped the rest, as those skips are asked for.
 */
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { gatherSkipReasons, skipReportLines, type SkippedTest } from './skip-reasons.js';

export default class SkipReport implements Reporter {
  private filtered = false;

  onInit(vitest: Vitest): void {
    this.filtered = Boolean(vitest.config.testNamePattern);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const all = modules.flatMap((m) => [...m.children.allTests()].map((t) => ({ m, t })));
    if (this.filtered || all.some(({ t }) => t.options.mode === 'only')) return;
    const skipped: SkippedTest[] = all
      .filter(({ t }) => t.result().state === 'skipped')
      .map(({ m, t }) => {
        const result = t.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        return { file: m.relativeModuleId, fullName: t.fullName, note: t.options.mode === 'todo' ? 'todo' : note };
      });
    const lines = skipReportLines(gatherSkipReasons(skipped));
    if (lines.length) process.stdout.write(`\n${lines.join('\n')}\n\n`);
  }
}

/**
 * Every warning the gateway's snapshot builder (src/config/snapshot.ts) logs that no other check reports in
 * its own words: whatever `serve` would warn about, `validate` reports too, even warnings added later.
 */
import type { Check } from '../check.js';
import type { Finding, ObjectRef } from '../finding.js';
import { formattedStrictIssues } from './object-problems.js';

/** `InferencePool llm-d/gemma asks for ...`: the object a warning opens with. */
const OBJECT_PREFIX = /^(InferencePool|HTTPRoute|InferenceObjective|InferenceModelRewrite|ConfigMap|Pod) ([^/\s]+)\/([^\s,:;]+)/;

/** Reports the snapshot warnings that none of `others` supersedes. */
export function snapshotWarnings(others: readonly Check[]): Check {
  const superseded = others.flatMap((c) => c.supersedes ?? []);
  return {
    name: 'snapshot-warnings',
    codes: ['config-warning'],
    run(ctx) {
      // A lenient build turns the strict build's errors into warnings; those are reported as errors already.
      const strict = formattedStrictIssues(ctx);
      return ctx.snapshot.warnings
        .filter((w) => !strict.has(w) && !superseded.some((re) => re.test(w)))
        .map((w): Finding => {
          const m = OBJECT_PREFIX.exec(w);
          const object: ObjectRef | null = m ? { kind: m[1]!, namespace: m[2]!, name: m[3]! } : null;
          return { severity: 'warning', code: 'config-warning', object, location: null, field: null, message: w, fix: 'The gateway logs this warning when it loads the configuration; change the object as the message says.' };
        });
    },
  };
}

/** `infergate bench --url URL --workload KIND`: load-test a gateway or a pod and print (and write) the report. */
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import type { BenchPlan } from './bench-plan.js';
import { DEFAULT_CONCURRENCY, DEFAULT_PROMPT_TOKENS, WORKLOAD_KINDS, benchPlanFromFlags, buildWorkload } from './bench-plan.js';
import { ModelsListError, fetchModelIds } from '../bench/fetch-models.js';
import { progressLine } from '../bench/progress-line.js';
import { reportCharts } from '../bench/report-charts.js';
import { writeReport } from '../bench/report-files.js';
import { failureLines, toMarkdownTable } from '../bench/report-markdown.js';
import type { Load, Progress, RunResult } from '../bench/run-bench.js';
import { loadTag, runBench } from '../bench/run-bench.js';
import { SHARED_PREFIX_DEFAULTS as SP } from '../bench/shared-prefix-workload.js';
import { parseThenRun } from './parse-flags.js';

/** Exit status after a Ctrl-C ended the runs (and the partial report was written): the shell's 128 + SIGINT. */
const INTERRUPTED_EXIT_CODE = 130;

/** Without a terminal (CI logs), a progress line this often instead of a redrawn one. */
const PLAIN_PROGRESS_EVERY_S = 5;

/** Redraws one stderr line on a terminal; prints a plain line now and then otherwise. */
function progressPrinter(): (p: Progress) => void {
  const tty = process.stderr.isTTY === true;
  let lastPlain = -Infinity;
  return (p) => {
    if (tty) {
      process.stderr.write(`\r\x1b[2K${progressLine(p)}${p.done ? '\n' : ''}`);
    } else if (p.done || p.elapsedS - lastPlain >= PLAIN_PROGRESS_EVERY_S) {
      lastPlain = p.elapsedS;
      process.stderr.write(`${progressLine(p)}\n`);
    }
  };
}

/** A file-name-safe version of a label. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'bench';
}

/** The --label, with the load appended in a sweep so rows stay distinct; without one, runBench's `shared-prefix rate=4`. */
function labelFor(plan: BenchPlan, load: Load): string | undefined {
  if (plan.label === undefined || plan.loads.length === 1) return plan.label;
  return `${plan.label} ${loadTag(load)}`;
}

/**
 * What to do when the model list failed. A 401 or 403 wants a key, and every request would fail the same way, so
 * `--models` (the advice otherwise) would only move the failure into the report.
 */
function modelsListAdvice(e: Error, plan: BenchPlan): string {
  if (e instanceof ModelsListError && (e.status === 401 || e.status === 403)) {
    return plan.apiKey === undefined
      ? 'the server wants an API key: set OPENAI_API_KEY (a gateway tenant key, or the pod\'s vLLM --api-key)'
      : 'the server refused the key in OPENAI_API_KEY: check that it is one this server accepts';
  }
  return 'pass --models a,b';
}

async function runPlan(plan: BenchPlan): Promise<void> {
  // Before any request: a folder that cannot be made was found only after the whole run, its results lost.
  if (plan.out !== undefined) {
    try {
      mkdirSync(plan.out, { recursive: true });
    } catch (e) {
      throw new Error(`--out ${plan.out}: ${(e as Error).message}`);
    }
  }
  let models = plan.models ?? [];
  if (plan.workload.kind !== 'jsonl' && plan.models === undefined) {
    models = await fetchModelIds(plan.url, undefined, plan.apiKey).catch((e: Error) => {
      throw new Error(`could not list the models at ${plan.url}/v1/models (${e.message}); ${modelsListAdvice(e, plan)}`);
    });
    if (models.length === 0) throw new Error(`${plan.url}/v1/models lists no models; pass --models a,b`);
    process.stderr.write(`models: ${models.join(', ')}\n`);
  }
  const workload = await buildWorkload(plan.workload, models, plan.seed);

  // The first Ctrl-C ends the current run and reports what was measured; a second one exits at once.
  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping: in-flight requests count as unfinished (Ctrl-C again to quit)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const results: RunResult[] = [];
  try {
    for (const load of plan.loads) {
      if (stop.signal.aborted) break;
      results.push(
        await runBench({
          url: plan.url,
          workload,
          load,
          maxRequests: plan.maxRequests,
          durationS: plan.durationS,
          graceS: plan.graceS,
          retries: plan.retries,
          stream: plan.stream,
          seed: plan.seed,
          label: labelFor(plan, load),
          onProgress: progressPrinter(),
          signal: stop.signal,
          ...(plan.apiKey === undefined ? {} : { apiKey: plan.apiKey }),
        }),
      );
    }
  } finally {
    process.off('SIGINT', onSigint);
  }

  console.log(toMarkdownTable(results));
  for (const line of failureLines(results)) console.log(`\n${line}`);
  if (plan.out !== undefined) {
    const name = slug(plan.label ?? `bench-${workload.name}`);
    const written = writeReport(plan.out, name, results, reportCharts(results, plan.label ?? workload.name, name));
    process.stderr.write(`report: ${written.join(', ')}\n`);
  }
  // After the report, so a script sees what failed: an interrupted run is partial, and a run where nothing
  // succeeded (a wrong URL, an unknown model) measured nothing; neither is a benchmark to pass on as done.
  if (stop.signal.aborted) {
    process.exitCode = INTERRUPTED_EXIT_CODE;
    return;
  }
  // A run that sent nothing (an open loop whose first arrival fell after --duration) measured nothing either.
  const unsent = results.filter((r) => r.requests === 0).map((r) => r.label);
  if (unsent.length > 0) {
    throw new Error(`no request was sent in ${unsent.join(', ')}: the run's --duration ended before its first arrival; give a longer --duration or a higher --rate`);
  }
  const empty = results.filter((r) => r.successes === 0).map((r) => r.label);
  if (empty.length > 0) throw new Error(`no request succeeded in ${empty.join(', ')}`);
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('load-test an OpenAI-compatible URL (the gateway, a Service or a pod): TTFT, TPOT, ITL, throughput, success and routing accuracy')
    .requiredOption('--url <url>', 'base URL of the gateway, Service or pod, e.g. http://127.0.0.1:8080 (a trailing /v1, as OpenAI clients take it, is dropped)')
    .requiredOption('--workload <kind>', `one of ${WORKLOAD_KINDS.join(', ')}`)
    .option('--file <path>', 'for --workload jsonl: one request per line, {"model", "prompt"|"messages", ...} (optional "path", and "tags" not sent), replayed in order, cycling')
    .option('--models <a,b>', 'models to ask for (default: every model GET /v1/models lists, bases and adapters)')
    .option('--rate <r1,r2>', 'open loop: Poisson arrivals at this many requests/s; a list runs a sweep, one run per rate')
    .option('--concurrency <n>', `closed loop: this many requests always in flight (default ${DEFAULT_CONCURRENCY})`)
    .option('--requests <n>', 'requests per run (a run ends at --requests or --duration, whichever comes first)', '200')
    .option('--duration <s>', 'seconds per run, or a duration (5m, 1m30s)', '60')
    .option('--grace <s>', 'after a run, seconds (or a duration such as 2m) to wait for requests in flight before counting them as failures', '60')
    .option('--retries <n>', 'client retries after a failure (non-2xx, connection error or broken stream), each a fresh request', '0')
    .option('--no-stream', 'ask for whole responses: e2e latency and usage only, no TTFT/ITL')
    .option('--seed <n>', 'seed for the workload and the arrival times', '1')
    .option('--out <dir>', 'write NAME.json, NAME.md and SVG charts to this folder (NAME: the label, or bench-WORKLOAD)')
    .option('--label <label>', 'name of the run in the table and the report')
    .option('--api <api>', 'chat, completions or mixed (default: chat; mixed for multi-model)')
    .option('--groups <n>', `shared-prefix: groups, each with its own system prompt (default ${SP.groups})`)
    .option('--system-prompt-tokens <n>', `shared-prefix: tokens in each group's system prompt (default ${SP.systemPromptTokens})`)
    .option('--users <n>', `shared-prefix: users per group, each with a fixed question (default ${SP.users})`)
    .option('--question-tokens <n>', `shared-prefix: tokens in each question (default ${SP.questionTokens})`)
    .option('--prompt-tokens <n>', `multi-model, random: prompt tokens, random's mean (default ${DEFAULT_PROMPT_TOKENS})`)
    .option('--max-tokens <n>', `max_tokens per request, random's mean (default ${SP.maxTokens})`)
    .addHelpText('after', '\nEnvironment:\n  OPENAI_API_KEY  sent as Authorization: Bearer to --url (a gateway tenant key, or vLLM --api-key)')
    .action(parseThenRun(benchPlanFromFlags, runPlan));
}

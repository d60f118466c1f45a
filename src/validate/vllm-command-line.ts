/**
 * What a model-server container serves, read from its command line: vLLM's `vllm serve MODEL`, `--model`,
 * `--served-model-name` and `--lora-modules` (llm-d-inference-sim takes the same flags). The demo reads the
 * same flags to start simulators (src/cli/demo-fleet.ts); this reader also takes every served name and the
 * positional model, as a real pod spec may use them.
 */

/** The names a client may send to this container. */
export interface ServedNames {
  /** The base model's names: every `--served-model-name`, else the model itself. */
  bases: string[];
  /** LoRA adapters loaded at startup (`--lora-modules`); ones loaded later at runtime are not here. */
  adapters: string[];
}

interface Container {
  command?: unknown;
  args?: unknown;
}

/** The names served by the first container that runs a model server; undefined when none does (or none says). */
export function servedByContainers(containers: unknown): ServedNames | undefined {
  for (const argv of commandLines(containers)) {
    const served = servedByArgv(argv);
    if (served) return served;
  }
  return undefined;
}

/** Each container's command and args as one argv, a `sh -c` script split into its words. */
export function commandLines(containers: unknown): string[][] {
  if (!Array.isArray(containers)) return [];
  return (containers as Container[]).map((c) => shellWords([...strings(c?.command), ...strings(c?.args)]));
}

/** Reads one command line; undefined when it names no model. */
export function servedByArgv(argv: readonly string[]): ServedNames | undefined {
  let model: string | undefined;
  const served: string[] = [];
  const adapters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    // argparse nargs='+': the values run until the next flag.
    const values = (): string[] => {
      if (inline !== undefined) return [inline];
      const out: string[] = [];
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) out.push(argv[++i]!);
      return out;
    };
    if (flag === 'serve' && model === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) model = argv[++i];
    else if (flag === '--model') model = values()[0] ?? model;
    else if (flag === '--served-model-name') served.push(...values());
    else if (flag === '--lora-modules') adapters.push(...values().map(loraName).filter((n) => n !== ''));
  }
  if (model === undefined && served.length === 0) return undefined;
  return { bases: served.length > 0 ? unique(served) : [model!], adapters: unique(adapters) };
}

/** vLLM takes `name=path` or a JSON object `{"name": ..., "path": ...}`. */
function loraName(spec: string): string {
  if (spec.trim().startsWith('{')) {
    try {
      const name = (JSON.parse(spec) as { name?: unknown }).name;
      return typeof name === 'string' ? name : '';
    } catch {
      return '';
    }
  }
  return spec.split('=')[0]!.trim();
}

/** `sh -c "vllm serve m --port 8000"`: the script's words, split on spaces (quotes inside it are not undone). */
function shellWords(argv: string[]): string[] {
  return argv.flatMap((a, i) => (i > 0 && argv[i - 1] === '-c' ? a.trim().split(/\s+/) : [a]));
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/**
 * Whether a model-server container requires an API key, read from its spec: vLLM's `--api-key` flag or the
 * `VLLM_API_KEY` variable (vllm/entrypoints/openai/api_server.py: the flag wins, either turns the check on).
 */

interface Container {
  command?: unknown;
  args?: unknown;
  env?: unknown;
}

/** `--api-key` or `env VLLM_API_KEY` for the first container that sets either; undefined when none does. */
export function apiKeyRequirement(containers: unknown): string | undefined {
  if (!Array.isArray(containers)) return undefined;
  for (const c of containers as Container[]) {
    const argv = [...strings(c?.command), ...strings(c?.args)];
    // `sh -c "vllm serve ... --api-key $KEY"` carries it inside one word.
    if (argv.some((a) => /(^|\s)--api-key(=|\s|$)/.test(a))) return '--api-key';
    if (Array.isArray(c?.env) && (c.env as { name?: unknown; value?: unknown; valueFrom?: unknown }[]).some((e) => e?.name === 'VLLM_API_KEY' && (e.valueFrom !== undefined || (typeof e.value === 'string' && e.value !== '')))) {
      return 'env VLLM_API_KEY';
    }
  }
  return undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

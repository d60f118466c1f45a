/**
 * The request bodies of llm-d's NIXL v2 protocol (its routing sidecar's default `--kv-connector nixlv2`): the
 * prefill leg computes the prompt's KV on the prefill pod and answers where it is (`kv_transfer_params`); the
 * decode leg hands that to the decode pod, whose vLLM pulls the KV and decodes.
 */

type Json = Record<string, unknown>;

/** The token limits set to 1 for the prefill leg, by API, as llm-d's sidecar sets them (each set, present or not). */
export function tokenLimitFields(path: string): readonly string[] {
  return path.startsWith('/v1/responses') ? ['max_output_tokens'] : ['max_tokens', 'max_completion_tokens', 'min_tokens'];
}

/**
 * The prefill leg's body: the client's request, not streamed, producing one token, asking the prefill pod to keep
 * the KV for a remote decode (`do_remote_decode`).
 */
export function prefillBody(json: Readonly<Json>, path: string): Json {
  const out: Json = { ...json };
  out.kv_transfer_params = { do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null };
  out.stream = false;
  delete out.stream_options;
  for (const f of tokenLimitFields(path)) out[f] = 1;
  return out;
}

/**
 * Where the prefill put the KV (vLLM's `kv_transfer_params` of the prefill answer: `do_remote_prefill`, the remote
 * engine, its block ids, host and port), or undefined when the answer has none (the decode pod then prefills).
 */
export function transferParams(answer: unknown): Json | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const p = (answer as Json).kv_transfer_params;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Json) : undefined;
}

/** The decode leg's body: the client's request as it came (stream, limits), with the prefill's `kv_transfer_params`. */
export function decodeBody(json: Readonly<Json>, params: Json): Json {
  return { ...json, kv_transfer_params: params };
}

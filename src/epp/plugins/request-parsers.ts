/**
 * llm-d's default request parsers (`openai-parser`, `anthropic-parser`, `vllmhttp-parser`, `passthrough-parser`),
 * which its and GIE's configs declare for `requestHandler.parsers`: the gateway reads request bodies itself (the
 * `model` and prompt of OpenAI's and Anthropic's APIs, anything else forwarded as sent), so these load, say so
 * once, and do nothing. The parsers llm-d adds only on request (vLLM gRPC, SGLang, Vertex AI) stay unknown types:
 * a config that names one expects a protocol the gateway does not speak.
 */
import type { PluginFactory } from '../framework/registry.js';
import { noOpPluginFactory } from './no-op-plugin.js';

export const OPENAI_PARSER_TYPE = 'openai-parser';
export const ANTHROPIC_PARSER_TYPE = 'anthropic-parser';
export const VLLMHTTP_PARSER_TYPE = 'vllmhttp-parser';
export const PASSTHROUGH_PARSER_TYPE = 'passthrough-parser';

/** A factory for one of the types above: any parameters are accepted and ignored, with a note. */
export function requestParserFactory(type: string): PluginFactory {
  return noOpPluginFactory(type, 'the gateway reads request bodies itself');
}

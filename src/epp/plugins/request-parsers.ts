/**
 * llm-d's default request parsers (`openai-parser`, `anthropic-parser`, `vllmhttp-parser`, `passthrough-parser`),
 * which its and GIE's configs declare for `requestHandler.parsers`: the gateway reads request bodies itself (the
 * `model` and prompt of OpenAI's and Anthropic's APIs, anything else forwarded as sent), so these load, say so
 * once, and do nothing. The parsers llm-d adds only on request (vLLM gRPC, SGLang, Vertex AI) stay unknown types:
 * a config that names one expects a protocol the gateway does not speak.
 */
import type { Plugin } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

export const OPENAI_PARSER_TYPE = 'openai-parser';
export const ANTHROPIC_PARSER_TYPE = 'anthropic-parser';
export const VLLMHTTP_PARSER_TYPE = 'vllmhttp-parser';
export const PASSTHROUGH_PARSER_TYPE = 'passthrough-parser';

class RequestParser implements Plugin {
  readonly type: string;
  readonly name: string;
  constructor(type: string, name: string) {
    this.type = type;
    this.name = name;
  }
}

/** A factory for one of the types above: any parameters are accepted and ignored, with a note. */
export function requestParserFactory(type: string): PluginFactory {
  return (name, params, r) => {
    for (const key of Object.keys(params)) r.raw(key);
    r.warn(`has nothing to do here: the gateway reads request bodies itself${Object.keys(params).length > 0 ? '; its parameters are ignored' : ''}`);
    return new RequestParser(type, name);
  };
}

/**
 * Chat's `tool_choice`, as vLLM checks and honours it: a named function, or `required`, forces a tool call whose
 * arguments are JSON of the function's parameters (vLLM's structured outputs), answered in `tool_calls`.
 * `auto` and `none` leave the reply free (the simulator has no tool parser to let the model choose).
 */
import type { Json } from './request-fields.js';
import { isObject } from './request-fields.js';
import { sampleJson } from './structured-reply.js';
import { badRequest } from './vllm-error.js';

/** The call a forced `tool_choice` makes. */
export interface ForcedToolCall {
  readonly name: string;
  /** The arguments: the smallest JSON value of the function's `parameters`. */
  readonly arguments: string;
  /** vLLM's finish_reason when the call ends by itself: `tool_calls` for `required`, `stop` for a named function. */
  readonly finishReason: 'stop' | 'tool_calls';
}

const CORRECT_USAGE = 'Correct usage: `{"type": "function", "function": {"name": "my_function"}}`';

function functionOf(tool: unknown): Json | null {
  return isObject(tool) && isObject(tool.function) ? tool.function : null;
}

/** vLLM's check_tool_usage, in its words; null when no call is forced. */
export function forcedToolCall(body: Json): ForcedToolCall | null {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null || choice === 'none') return null;
  const tools = body.tools;
  if (tools === undefined || tools === null) throw badRequest('When using `tool_choice`, `tools` must be set.', 'tool_choice');
  if (!Array.isArray(tools)) throw badRequest('`tools` must be an array', 'tools');
  if (choice === 'auto') return null;
  if (choice === 'required') {
    // vLLM: required with an empty list behaves like none.
    const first = functionOf(tools[0]);
    if (first === null) return null;
    return { name: String(first.name), arguments: sampleJson(first.parameters ?? {}), finishReason: 'tool_calls' };
  }
  if (!isObject(choice)) {
    throw badRequest(`Invalid value for \`tool_choice\`: ${JSON.stringify(choice)}! Only named tools, "none", "auto" or "required" are supported.`, 'tool_choice');
  }
  const fn = choice.function;
  if (!isObject(fn)) throw badRequest(`Invalid value for \`function\`: \`${JSON.stringify(fn ?? null)}\` in \`tool_choice\`! ${CORRECT_USAGE}`, 'tool_choice');
  if (typeof fn.name !== 'string' || fn.name === '') throw badRequest(`Expected field \`name\` in \`function\` in \`tool_choice\`! ${CORRECT_USAGE}`, 'tool_choice');
  const tool = tools.map(functionOf).find((f) => f?.name === fn.name);
  if (tool === undefined || tool === null) throw badRequest('The tool specified in `tool_choice` does not match any of the specified `tools`', 'tool_choice');
  return { name: fn.name, arguments: sampleJson(tool.parameters ?? {}), finishReason: 'stop' };
}

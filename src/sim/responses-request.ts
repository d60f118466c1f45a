/** Validates a `POST /v1/responses` body into what the simulator uses, keeping the fields a response echoes. */
import type { Json } from './request-fields.js';
import { checkPriority, contentText, isObject, objectBody, optionalBoolean, optionalInteger, requiredModel } from './request-fields.js';
import { textFormatReply } from './structured-reply.js';
import { badRequest } from './vllm-error.js';

export interface ResponsesRequest {
  readonly model: string;
  readonly stream: boolean;
  /** Keep the response for `GET /v1/responses/{id}` and `previous_response_id` (OpenAI's default: true). */
  readonly store: boolean;
  readonly maxOutputTokens: number | null;
  readonly instructions: string | null;
  readonly previousResponseId: string | null;
  /** The text of `input`: every item's text, joined. */
  readonly inputText: string;
  /** What echo mode repeats: the last user item (or the string input). */
  readonly echoText: string;
  /** The body as sent, for the request fields a response object repeats (temperature, tools, metadata...). */
  readonly body: Json;
  /** The JSON text `text.format` forces the reply to be (json_object, json_schema); null when free. */
  readonly structured: string | null;
}

/** An input item's text: a message's content, a tool output, or a tool call's arguments. */
function itemText(item: unknown, i: number): string {
  if (!isObject(item)) throw badRequest(`\`input[${i}]\` must be an object (a message or another input item)`, 'input');
  if (item.content !== undefined) return contentText(item.content, `input[${i}].content`);
  if (typeof item.output === 'string') return item.output;
  return typeof item.arguments === 'string' ? item.arguments : '';
}

function inputOf(input: unknown): { inputText: string; echoText: string } {
  if (typeof input === 'string') return { inputText: input, echoText: input };
  if (!Array.isArray(input)) throw badRequest('`input` must be a string or an array of input items', 'input');
  const texts = input.map(itemText);
  const lastUser = input.findLastIndex((item) => isObject(item) && item.role === 'user');
  return { inputText: texts.join(''), echoText: texts[lastUser] ?? texts.at(-1) ?? '' };
}

function optionalString(body: Json, field: string): string | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw badRequest(`\`${field}\` must be a string`, field);
  return v;
}

/** Validates a parsed body; throws a 400 VllmError naming the offending field. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  const json = objectBody(body);
  const model = requiredModel(json);
  if (optionalBoolean(json, 'background')) {
    throw badRequest('the simulator does not run responses in the background; send `background: false`', 'background');
  }
  checkPriority(json);
  return {
    model,
    stream: optionalBoolean(json, 'stream'),
    store: json.store === undefined || json.store === null ? true : optionalBoolean(json, 'store'),
    maxOutputTokens: optionalInteger(json, 'max_output_tokens', 1),
    instructions: optionalString(json, 'instructions'),
    previousResponseId: optionalString(json, 'previous_response_id'),
    ...inputOf(json.input),
    body: json,
    structured: textFormatReply(json),
  };
}

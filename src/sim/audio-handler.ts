/**
 * `/v1/audio/transcriptions` and `/v1/audio/translations` on the simulator: a canned transcript, decoded through
 * the engine one word per step like any generation, answered in vLLM's JSON shapes.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FinishReason } from './generation.js';
import type { AudioRequest } from './audio-request.js';
import type { GenerateDeps } from './generate-handler.js';
import type { Tokenizer } from './tokenizer.js';
import { readAudioRequest } from './audio-request.js';
import { checkContextLength, checkGeneration } from './generate-handler.js';
import { sendJson, startEventStream, writeEvent } from './http-io.js';
import { replyTokens, splitWords } from './reply-text.js';
import { submitAll } from './submit-all.js';

export type AudioTask = 'transcription' | 'translation';

export interface AudioDeps extends GenerateDeps {
  readonly tokenizer: Tokenizer;
}

/** Bytes per second of 16 kHz 16-bit mono PCM, Whisper's input, assumed for anything that is not a WAV file. */
const DEFAULT_BYTE_RATE = 32_000;
/** About how fast people speak, for the canned transcript's length. */
const WORDS_PER_SECOND = 2.5;
/** Whisper decodes at most 448 tokens per 30 s window; enough for a transcript here. */
const MAX_WORDS = 448;
const MIN_WORDS = 9;

/** The audio's length in seconds: from a WAV header's byte rate when there is one, else as 16 kHz PCM. */
export function audioSeconds(audio: Buffer): number {
  const isWav = audio.length >= 44 && audio.toString('latin1', 0, 4) === 'RIFF' && audio.toString('latin1', 8, 12) === 'WAVE';
  const rate = isWav ? audio.readUInt32LE(28) : 0;
  return rate > 0 ? (audio.length - 44) / rate : audio.length / DEFAULT_BYTE_RATE;
}

/** The file as text, when it is text (UTF-8 without control bytes): what echo mode transcribes. */
function textContent(audio: Buffer): string | null {
  // Tab, newline and carriage return are text; other control bytes are not (audio headers are full of them).
  if (audio.some((b) => b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) return null;
  const text = audio.toString('utf8');
  return text.includes('\uFFFD') ? null : text.trim();
}

/** The same audio always gets the same transcript: canned sentences picked by the audio's bytes. */
function transcriptWords(req: AudioRequest, seconds: number, echo: boolean): string[] {
  const text = echo ? textContent(req.audio) : null;
  if (text !== null) return splitWords(text);
  let h = 0x811c9dc5;
  for (const byte of req.audio.subarray(0, 65_536)) h = Math.imul(h ^ byte, 0x01000193);
  const words = Math.min(MAX_WORDS, Math.max(MIN_WORDS, Math.ceil(seconds * WORDS_PER_SECOND)));
  return replyTokens('random', '', words, (h >>> 0) / 2 ** 32);
}

function body(task: AudioTask, req: AudioRequest, text: string, seconds: number, deps: AudioDeps): Record<string, unknown> {
  if (req.responseFormat === 'verbose_json') {
    const segment = {
      id: 0, seek: 0, start: 0, end: Number(seconds.toFixed(2)), text, tokens: deps.tokenizer.encode(text),
      temperature: 0, avg_logprob: -0.25, compression_ratio: 1.5, no_speech_prob: 0.01,
    };
    const language = task === 'translation' ? 'en' : (req.language ?? 'en');
    return { duration: seconds.toFixed(2), language, text, segments: [segment], words: null };
  }
  // vLLM answers `text` as JSON too; a transcription carries its audio duration as usage.
  return task === 'transcription' ? { text, usage: { type: 'duration', seconds: Math.ceil(seconds) } } : { text };
}

/**
 * Reads the form, checks the model, generates the transcript in the engine, then answers whole, or streamed as
 * vLLM streams it (`stream` true): one chunk per token, the last with `finish_reason`, a usage chunk when asked, `[DONE]`.
 */
export async function handleAudio(task: AudioTask, httpReq: IncomingMessage, res: ServerResponse, deps: AudioDeps): Promise<void> {
  const req = await readAudioRequest(httpReq);
  checkGeneration(req.model, deps);
  const promptTokens = deps.tokenizer.count(req.prompt);
  checkContextLength(promptTokens, null, deps.maxModelLen);
  const seconds = audioSeconds(req.audio);
  const words = transcriptWords(req, seconds, deps.mode === 'echo');
  if (res.destroyed) return;
  const request = { lora: deps.served.loraOf(req.model), promptText: req.prompt, promptTokens, output: words, maxTokens: null };
  if (req.stream) {
    const chunks = new AudioChunks(task, req);
    let completion = 0;
    submitAll(deps.engine, [request], () => ({
      onToken(token, _i, finishReason) {
        completion++;
        writeEvent(res, chunks.token(token, finishReason, { promptTokens, completionTokens: completion }));
      },
      onFinish(result) {
        // A transcript of no tokens still ends with a chunk carrying its finish reason.
        if (result.completionTokens === 0) writeEvent(res, chunks.token('', result.finishReason, result));
        if (req.includeUsage) writeEvent(res, chunks.usage(result));
        writeEvent(res, '[DONE]');
        res.end();
      },
    }), res);
    startEventStream(res);
    return;
  }
  let text = '';
  submitAll(deps.engine, [request], () => ({
    onToken(token) {
      text += token;
    },
    onFinish() {
      if (!res.destroyed) sendJson(res, 200, body(task, req, text.trim(), seconds, deps));
    },
  }), res);
}

/**
 * vLLM's streamed transcript (speech_to_text.py): `transcription.chunk` (`trsc-` ids) or `translation.chunk`
 * (`trsl-`), each choice a `delta` without an index; only the last carries `finish_reason` and `stop_reason`.
 */
class AudioChunks {
  readonly #head: { id: string; object: string; created: number; model: string };
  readonly #continuousUsage: boolean;

  constructor(task: AudioTask, req: AudioRequest) {
    const [prefix, object] = task === 'transcription' ? ['trsc', 'transcription.chunk'] : ['trsl', 'translation.chunk'];
    this.#head = { id: `${prefix}-${randomUUID().replaceAll('-', '')}`, object, created: Math.floor(Date.now() / 1000), model: req.model };
    this.#continuousUsage = req.continuousUsage;
  }

  token(text: string, finishReason: FinishReason | null, counts: TokenCounts): Record<string, unknown> {
    const choice = finishReason === null ? { delta: { content: text } } : { delta: { content: text }, finish_reason: finishReason, stop_reason: null };
    const chunk: Record<string, unknown> = { ...this.#head, choices: [choice] };
    if (this.#continuousUsage) chunk.usage = usageOf(counts);
    return chunk;
  }

  usage(counts: TokenCounts): Record<string, unknown> {
    return { ...this.#head, choices: [], usage: usageOf(counts) };
  }
}

interface TokenCounts {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

function usageOf({ promptTokens, completionTokens }: TokenCounts): Record<string, number> {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens };
}

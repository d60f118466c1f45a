/**
 * What kind of model a simulated pod pretends to be (vLLM's `--task`), and so which APIs it serves: a vLLM
 * server only mounts the endpoints its model supports, e.g. no `/v1/embeddings` on a generative model.
 */

/** `auto` (the default) serves every API, which a real model never does but a test fleet often wants. */
export const SIM_TASKS = ['auto', 'generate', 'embed', 'classify', 'transcription'] as const;

export type SimTask = (typeof SIM_TASKS)[number];

/** One family of endpoints, named after the API vLLM's messages name. */
export type ApiFamily = 'generate' | 'embed' | 'pooling' | 'classify' | 'score' | 'transcription';

/** How vLLM names each API in "The model does not support ... API". */
export const API_NAMES: Readonly<Record<ApiFamily, string>> = {
  generate: 'Completions, Chat Completions, Responses and Messages',
  embed: 'Embeddings',
  pooling: 'Pooling',
  classify: 'Classification',
  score: 'Score and Rerank',
  transcription: 'Transcriptions and Translations',
};

const SERVED: Readonly<Record<Exclude<SimTask, 'auto'>, readonly ApiFamily[]>> = {
  generate: ['generate'],
  // An embedding model scores by cosine similarity (vLLM's _embedding_score); a classifier scores as a cross-encoder.
  embed: ['embed', 'pooling', 'score'],
  classify: ['classify', 'pooling', 'score'],
  transcription: ['transcription'],
};

export function isSimTask(s: string): s is SimTask {
  return (SIM_TASKS as readonly string[]).includes(s);
}

/** Whether a pod running `task` serves `family`. Tokenize, models, health, metrics and LoRA admin are always served. */
export function servesApi(task: SimTask, family: ApiFamily): boolean {
  return task === 'auto' || SERVED[task].includes(family);
}

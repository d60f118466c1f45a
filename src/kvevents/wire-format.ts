/** vLLM's KV-event wire format (ANCHORS §3b): the three-frame message, the msgpack batch, both event encodings, replay. */
import { Decoder, Encoder } from '@msgpack/msgpack';

/**
 * A block hash as vLLM sends it with `VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1` (its default): the low 64 bits
 * of the engine's digest, an unsigned 64-bit integer. A bigint because most values exceed 2^53.
 */
export type BlockHash = bigint;

/** `BlockStored`: blocks the engine just filled and registered in its prefix cache, parent first. */
export interface BlockStoredEvent {
  readonly type: 'BlockStored';
  /** One hash per block, in token order; each block's hash chains on the previous one. */
  readonly blockHashes: readonly BlockHash[];
  /** The hash of the block before the first one here; null when the first block starts the prompt. */
  readonly parentBlockHash: BlockHash | null;
  /** The blocks' tokens: `blockHashes.length × blockSize` ids (a decoder does not enforce it; a consumer should). */
  readonly tokenIds: readonly number[];
  readonly blockSize: number;
  /** Deprecated by vLLM in favour of `loraName`; kept for old consumers. */
  readonly loraId: number | null;
  /** The device tier, `"GPU"` for vLLM's own cache; llm-d calls it the medium or tier. */
  readonly medium: string | null;
  /** The LoRA adapter the blocks were computed with; null for the base model. */
  readonly loraName: string | null;
  /** One entry per block (each a tuple or null), or null when the engine sent none. */
  readonly extraKeys: readonly (readonly unknown[] | null)[] | null;
  readonly groupIdx: number | null;
  readonly kvCacheSpecKind: string | null;
  readonly kvCacheSpecSlidingWindow: number | null;
}

/** `BlockRemoved`: blocks evicted from the prefix cache (it carries engine hashes only). */
export interface BlockRemovedEvent {
  readonly type: 'BlockRemoved';
  readonly blockHashes: readonly BlockHash[];
  readonly medium: string | null;
  readonly groupIdx: number | null;
}

/** `AllBlocksCleared`: the engine dropped its whole prefix cache (a reset, a weight update). */
export interface AllBlocksClearedEvent {
  readonly type: 'AllBlocksCleared';
}

export type KvCacheEvent = BlockStoredEvent | BlockRemovedEvent | AllBlocksClearedEvent;

/** One engine step's events: vLLM's `KVEventBatch`. */
export interface KvEventBatch {
  /** Seconds since the epoch (a float), when the engine published the batch. */
  readonly ts: number;
  readonly events: readonly KvCacheEvent[];
  /** The data-parallel rank that published it; null when the sender omitted it (its default). */
  readonly dataParallelRank: number | null;
}

/** What {@link decodeKvEventBatch} noticed but did not fail on, for a consumer's metrics. */
export interface KvEventBatchNotes {
  /** Tags of events this decoder does not know (skipped, not in `events`), e.g. a newer vLLM's. */
  readonly unknownEventTypes: readonly string[];
  /** How many block hashes arrived as digest bytes instead of integers (converted as llm-d does: last 8 bytes, big-endian). */
  readonly hashesAsBytes: number;
}

/** A decoded batch and what was noticed while decoding it. */
export type DecodedKvEventBatch = KvEventBatch & KvEventBatchNotes;

/**
 * The inner event encoding. `map` (vLLM ≥ PR #42892, e.g. 0.26.0) is a map per event with the tag under
 * `"type"`; `legacy` is msgspec's tagged positional array `["BlockStored", …]` with trailing defaults omitted.
 * The outer batch is `[ts, events, dp_rank]` in both.
 */
export type KvEventFormat = 'map' | 'legacy';

/** One PUB message: `[topic, seq, payload]`. */
export interface KvEventMessage {
  /** By convention `kv@<podIP:port>@<model>`; see {@link parseKvEventTopic}. */
  readonly topic: string;
  /** The publisher's sequence number, from 0, +1 per batch. */
  readonly seq: number;
  readonly batch: DecodedKvEventBatch;
}

/** Why a message or payload was rejected: a consumer counts these per pod. */
export type KvEventDecodeFailure =
  | 'frame-count' // not 3 frames (PUB) or fewer than 2 (replay)
  | 'short-seq' // a sequence frame shorter than 8 bytes
  | 'bad-seq' // a sequence number past 2^53
  | 'msgpack' // the payload is not msgpack
  | 'batch-shape' // the payload is msgpack but not a KVEventBatch
  | 'event-shape'; // a known event type whose fields have the wrong types

/** Thrown by every decode function here; `reason` is stable and suitable as a metric label. */
export class KvEventDecodeError extends Error {
  readonly reason: KvEventDecodeFailure;
  constructor(reason: KvEventDecodeFailure, message: string) {
    super(message);
    this.name = 'KvEventDecodeError';
    this.reason = reason;
  }
}

/** The default subscription prefix llm-d uses (`topicFilter`). */
export const KV_TOPIC_PREFIX = 'kv@';
/** A replay reply whose sequence number is this (8 bytes, signed big-endian) ends the replay; its payload is empty. */
export const REPLAY_END_SEQ = -1;

const U64 = (1n << 64n) - 1n;
// Decoder/Encoder instances are reusable (and faster reused); decoding is synchronous, so sharing one is safe.
const decoder = new Decoder({ useBigInt64: true });
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });

// ---------------------------------------------------------------------------------------------------- frames

/** The 8-byte big-endian sequence frame. `seq` must be a safe integer; -1 gives the replay end marker. */
export function encodeSeq(seq: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt(seq));
  return b;
}

/**
 * Reads a sequence frame as llm-d does: the first 8 bytes, big-endian. Returns -1 for the replay end marker
 * (all ones). Throws `short-seq` under 8 bytes and `bad-seq` past 2^53 (no real publisher gets there).
 */
export function decodeSeq(frame: Uint8Array): number {
  if (frame.byteLength < 8) throw new KvEventDecodeError('short-seq', `sequence frame has ${frame.byteLength} bytes; vLLM sends 8`);
  const v = Buffer.from(frame.buffer, frame.byteOffset, 8).readBigInt64BE();
  if (v === -1n) return REPLAY_END_SEQ;
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new KvEventDecodeError('bad-seq', `sequence number ${BigInt.asUintN(64, v)} is out of range`);
  return Number(v);
}

/** The three frames of a PUB message. */
export function encodeKvEventMessage(topic: string, seq: number, batch: KvEventBatch, format: KvEventFormat = 'map'): Buffer[] {
  return [Buffer.from(topic, 'utf8'), encodeSeq(seq), encodeKvEventBatch(batch, format)];
}

/**
 * Decodes one message from a SUB socket: exactly three frames `[topic, seq, payload]`, as llm-d's
 * subscriber requires. Both event encodings are accepted, even mixed in one batch.
 * @throws KvEventDecodeError on any malformed frame or payload; the message should then be dropped and counted.
 */
export function decodeKvEventMessage(frames: readonly Uint8Array[]): KvEventMessage {
  if (frames.length !== 3) throw new KvEventDecodeError('frame-count', `KV-event message has ${frames.length} frames; vLLM sends 3 (topic, seq, payload)`);
  const seq = decodeSeq(frames[1]!);
  if (seq < 0) throw new KvEventDecodeError('bad-seq', 'a PUB message carries the replay end marker');
  return { topic: Buffer.from(frames[0]!).toString('utf8'), seq, batch: decodeKvEventBatch(frames[2]!) };
}

/** Splits `kv@<pod>@<model>` into its parts (the model may itself contain `@`); null when it does not follow the convention. */
export function parseKvEventTopic(topic: string): { readonly pod: string; readonly model: string } | null {
  if (!topic.startsWith(KV_TOPIC_PREFIX)) return null;
  const rest = topic.slice(KV_TOPIC_PREFIX.length);
  const at = rest.indexOf('@');
  if (at <= 0) return null;
  return { pod: rest.slice(0, at), model: rest.slice(at + 1) };
}

// ---------------------------------------------------------------------------------------------------- replay

/**
 * The frames a DEALER client sends to the replay ROUTER to get every buffered batch with seq ≥ `startSeq`:
 * `["", seq]` (the ROUTER sees `[identity, "", seq]`). A REQ client sends only the seq frame (REQ adds the
 * delimiter) but can then read only one reply, so use DEALER.
 */
export function encodeReplayRequest(startSeq: number): Buffer[] {
  return [Buffer.alloc(0), encodeSeq(startSeq)];
}

/** One reply from the replay socket: a buffered batch, or the end marker after the last one. */
export type ReplayReply =
  | { readonly kind: 'batch'; readonly topic: string | null; readonly seq: number; readonly batch: DecodedKvEventBatch }
  | { readonly kind: 'end' };

/**
 * Decodes one replay reply as a DEALER (or REQ) client receives it. vLLM sends `[seq, payload]`; later
 * versions add the topic, `[topic, seq, payload]`; a DEALER also sees the empty delimiter first. So: the
 * last two frames are the seq and the payload, and a non-empty frame before them is the topic.
 * @throws KvEventDecodeError as {@link decodeKvEventMessage} does.
 */
export function decodeReplayReply(frames: readonly Uint8Array[]): ReplayReply {
  const n = frames.length;
  if (n < 2 || n > 4) throw new KvEventDecodeError('frame-count', `replay reply has ${n} frames; expected [topic?, seq, payload]`);
  const seq = decodeSeq(frames[n - 2]!);
  if (seq === REPLAY_END_SEQ) return { kind: 'end' };
  const topicFrame = n >= 3 ? frames[n - 3]! : undefined;
  const topic = topicFrame !== undefined && topicFrame.byteLength > 0 ? Buffer.from(topicFrame).toString('utf8') : null;
  return { kind: 'batch', topic, seq, batch: decodeKvEventBatch(frames[n - 1]!) };
}

/** The replay end marker frames the ROUTER sends after the last batch (identity and delimiter not included). */
export function encodeReplayEnd(): Buffer[] {
  return [encodeSeq(REPLAY_END_SEQ), Buffer.alloc(0)];
}

// ---------------------------------------------------------------------------------------------------- payload

/** The msgpack payload of a batch: `[ts, events, dp_rank]` (dp_rank omitted when null), events in `format`. */
export function encodeKvEventBatch(batch: KvEventBatch, format: KvEventFormat = 'map'): Buffer {
  const events = batch.events.map((e) => (format === 'map' ? eventToMap(e) : eventToArray(e)));
  const outer: unknown[] = [batch.ts, events];
  if (batch.dataParallelRank !== null) outer.push(batch.dataParallelRank);
  const bytes = encoder.encode(outer); // a copy, not the encoder's shared buffer
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes a batch payload. Accepts the positional batch `[ts, events, dp_rank?]` and, for robustness, a map
 * `{ts, events, data_parallel_rank}`; each event as a map with `"type"` or a tagged array. Unknown event types
 * are skipped and listed in `unknownEventTypes`; byte-string hashes are converted and counted.
 * @throws KvEventDecodeError `msgpack`, `batch-shape` or `event-shape`.
 */
export function decodeKvEventBatch(payload: Uint8Array): DecodedKvEventBatch {
  let raw: unknown;
  try {
    raw = decoder.decode(payload);
  } catch (err) {
    throw new KvEventDecodeError('msgpack', `payload is not msgpack: ${(err as Error).message}`);
  }
  let ts: unknown;
  let rawEvents: unknown;
  let dp: unknown = null;
  if (Array.isArray(raw)) [ts, rawEvents, dp = null] = raw as unknown[];
  else if (isRecord(raw)) ({ ts, events: rawEvents, data_parallel_rank: dp = null } = raw);
  else throw new KvEventDecodeError('batch-shape', 'payload is not a KVEventBatch [ts, events, dp_rank]');
  const tsNum = typeof ts === 'bigint' ? Number(ts) : ts;
  if (typeof tsNum !== 'number' || !Array.isArray(rawEvents)) throw new KvEventDecodeError('batch-shape', 'KVEventBatch needs a numeric ts and an events list');
  const ctx: DecodeContext = { hashesAsBytes: 0, unknown: [] };
  const events: KvCacheEvent[] = [];
  for (const e of rawEvents as unknown[]) {
    const ev = decodeEvent(e, ctx);
    if (ev !== null) events.push(ev);
  }
  return { ts: tsNum, events, dataParallelRank: optInt(dp, 'data_parallel_rank'), unknownEventTypes: ctx.unknown, hashesAsBytes: ctx.hashesAsBytes };
}

interface DecodeContext {
  hashesAsBytes: number;
  unknown: string[];
}

const STORED_FIELDS = [
  'block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name',
  'extra_keys', 'group_idx', 'kv_cache_spec_kind', 'kv_cache_spec_sliding_window',
] as const;
const REMOVED_FIELDS = ['block_hashes', 'medium', 'group_idx'] as const;

function decodeEvent(e: unknown, ctx: DecodeContext): KvCacheEvent | null {
  let tag: unknown;
  let field: (name: string, index: number) => unknown;
  if (Array.isArray(e)) {
    tag = e[0];
    field = (_name, index) => e[index + 1] ?? null;
  } else if (isRecord(e)) {
    tag = e.type;
    field = (name) => e[name] ?? null;
  } else {
    throw new KvEventDecodeError('event-shape', 'an event is neither a tagged array nor a map');
  }
  switch (tag) {
    case 'BlockStored': {
      const f = (n: (typeof STORED_FIELDS)[number]): unknown => field(n, STORED_FIELDS.indexOf(n));
      const parent = f('parent_block_hash');
      return {
        type: 'BlockStored',
        blockHashes: hashList(f('block_hashes'), ctx),
        parentBlockHash: parent === null ? null : toHash(parent, ctx),
        tokenIds: intList(f('token_ids'), 'token_ids'),
        blockSize: reqInt(f('block_size'), 'block_size'),
        loraId: optInt(f('lora_id'), 'lora_id'),
        medium: optStr(f('medium'), 'medium'),
        loraName: optStr(f('lora_name'), 'lora_name'),
        extraKeys: extraKeys(f('extra_keys')),
        groupIdx: optInt(f('group_idx'), 'group_idx'),
        kvCacheSpecKind: optStr(f('kv_cache_spec_kind'), 'kv_cache_spec_kind'),
        kvCacheSpecSlidingWindow: optInt(f('kv_cache_spec_sliding_window'), 'kv_cache_spec_sliding_window'),
      };
    }
    case 'BlockRemoved': {
      const f = (n: (typeof REMOVED_FIELDS)[number]): unknown => field(n, REMOVED_FIELDS.indexOf(n));
      return { type: 'BlockRemoved', blockHashes: hashList(f('block_hashes'), ctx), medium: optStr(f('medium'), 'medium'), groupIdx: optInt(f('group_idx'), 'group_idx') };
    }
    case 'AllBlocksCleared':
      return { type: 'AllBlocksCleared' };
    default:
      if (typeof tag !== 'string') throw new KvEventDecodeError('event-shape', 'an event has no string tag');
      ctx.unknown.push(tag);
      return null;
  }
}

function toHash(v: unknown, ctx: DecodeContext): BlockHash {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt.asUintN(64, BigInt(v));
  if (v instanceof Uint8Array && v.byteLength > 0) {
    // llm-d's getHashAsUint64: the digest's last 8 bytes, big-endian = vLLM's int conversion (low 64 bits).
    ctx.hashesAsBytes++;
    let h = 0n;
    for (let i = Math.max(0, v.byteLength - 8); i < v.byteLength; i++) h = (h << 8n) | BigInt(v[i]!);
    return h & U64;
  }
  throw new KvEventDecodeError('event-shape', 'a block hash is neither an integer nor bytes');
}

function hashList(v: unknown, ctx: DecodeContext): BlockHash[] {
  if (!Array.isArray(v)) throw new KvEventDecodeError('event-shape', 'block_hashes is not a list');
  return v.map((h: unknown) => toHash(h, ctx));
}

function intList(v: unknown, name: string): number[] {
  if (!Array.isArray(v)) throw new KvEventDecodeError('event-shape', `${name} is not a list of integers`);
  // The common case (every id a small msgpack int) is returned as decoded, without a copy.
  if (v.every((x) => Number.isSafeInteger(x))) return v as number[];
  return v.map((x: unknown) => reqInt(x, name));
}

/** An integer field; a 64-bit msgpack int (decoded as bigint) in the safe range counts too. */
function reqInt(v: unknown, name: string): number {
  if (Number.isSafeInteger(v)) return v as number;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw new KvEventDecodeError('event-shape', `${name} is not an integer`);
}

function optInt(v: unknown, name: string): number | null {
  return v === null ? null : reqInt(v, name);
}

function optStr(v: unknown, name: string): string | null {
  if (v !== null && typeof v !== 'string') throw new KvEventDecodeError('event-shape', `${name} is not a string`);
  return v;
}

function extraKeys(v: unknown): (unknown[] | null)[] | null {
  if (v === null) return null;
  if (!Array.isArray(v) || !v.every((k) => k === null || Array.isArray(k))) throw new KvEventDecodeError('event-shape', 'extra_keys is not a list of tuples');
  return v as (unknown[] | null)[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

// msgspec, omit_defaults: required fields are always sent (null included); fields with a default are dropped
// when they hold it (in the map form, any such field; in the array form, only trailing ones).
function eventToMap(e: KvCacheEvent): Record<string, unknown> {
  switch (e.type) {
    case 'BlockStored':
      return {
        type: e.type, block_hashes: [...e.blockHashes], parent_block_hash: e.parentBlockHash, token_ids: [...e.tokenIds],
        block_size: e.blockSize, lora_id: e.loraId, medium: e.medium, lora_name: e.loraName,
        extra_keys: e.extraKeys ?? undefined, group_idx: e.groupIdx ?? undefined,
        kv_cache_spec_kind: e.kvCacheSpecKind ?? undefined, kv_cache_spec_sliding_window: e.kvCacheSpecSlidingWindow ?? undefined,
      };
    case 'BlockRemoved':
      return { type: e.type, block_hashes: [...e.blockHashes], medium: e.medium, group_idx: e.groupIdx ?? undefined };
    case 'AllBlocksCleared':
      return { type: e.type };
  }
}

function eventToArray(e: KvCacheEvent): unknown[] {
  switch (e.type) {
    case 'BlockStored':
      return trimDefaults([
        e.type, [...e.blockHashes], e.parentBlockHash, [...e.tokenIds], e.blockSize, e.loraId, e.medium, e.loraName,
        e.extraKeys, e.groupIdx, e.kvCacheSpecKind, e.kvCacheSpecSlidingWindow,
      ], 8);
    case 'BlockRemoved':
      return trimDefaults([e.type, [...e.blockHashes], e.medium, e.groupIdx], 3);
    case 'AllBlocksCleared':
      return [e.type];
  }
}

/** Drops trailing nulls from index `firstOptional` on: those fields have a default, the earlier ones do not. */
function trimDefaults(a: unknown[], firstOptional: number): unknown[] {
  let end = a.length;
  while (end > firstOptional && a[end - 1] === null) end--;
  return a.slice(0, end);
}

/**
 * Response affinity in the request plan: requests on a stored response are routed to the endpoint that
 * created it (the model, base model and pool from when it was created), creations are watched for their id,
 * and a follow-up naming `previous_response_id` goes back to the same endpoint.
 */
import { BASE_MODEL_NAME_HEADER, MODEL_NAME_HEADER } from '../bbr/routing-headers.js';
import type { PoolView } from '../epp/datastore/datastore.js';
import { GatewayError, RETRY_AFTER_SECONDS, shown } from '../errors.js';
import { NoEndpointError } from '../epp/eligibility.js';
import type { ResponseAffinity, ResponseOwner } from './response-affinity.js';
import { ResponseIdTap, type BodyTap } from './response-id-tap.js';
import type { StoredResponseRef } from './stored-response-path.js';

/** What planning needs of a request and its plan (src/plan/plan-request.ts), without depending on it. */
interface PlanLike {
  model?: string;
  /** The tenant of the request's API key, set at admission (`--api-keys`). */
  tenant?: { readonly name: string };
  rewrittenFrom?: string;
  base?: { model: string; baseModel: string; isAdapter: boolean; source: string };
  json?: Record<string, unknown>;
  view?: PoolView;
  routingHeaders: Record<string, string>;
  pin?: EndpointPin;
  answerHook?: AnswerHook;
}

/** The pick is held to one endpoint, the one holding a stored response. */
export interface EndpointPin {
  /** `ip:port`. */
  readonly endpoint: string;
  readonly responseId: string;
  /** A request on the stored response itself fails when the endpoint is gone; a follow-up routes as usual then. */
  readonly strict: boolean;
  /**
   * Where the response was created: a rule that splits traffic by weight over several pools sends the request
   * to this one ({@link pinnedBackend}); a follow-up routed to another pool cannot read it.
   */
  readonly owner?: ResponseOwner;
}

/** Told of the upstream's answer before its body passes; returns the tap for the body (`next`, or one that reads and passes on). */
export interface AnswerHook {
  answered(status: number, endpoint: string, next: BodyTap | undefined): BodyTap | undefined;
}

/**
 * `POST /v1/responses`: a stored response's id is remembered with the endpoint that answered; a follow-up
 * (`previous_response_id`) known here is pinned to its endpoint, if that endpoint still serves the model.
 * `tenant` (`--api-keys`): a follow-up on a response not known as this tenant's is a 404, never sent on, since
 * the pod holding it would answer from another tenant's conversation.
 */
export function planResponseCreation(affinity: ResponseAffinity, plan: PlanLike, tenant: string | undefined): void {
  const json = plan.json;
  if (!json) return;
  // OpenAI's default is to store; vLLM stores when VLLM_ENABLE_RESPONSES_API_STORE=1 and answers 404 later otherwise.
  if (json.store !== false) plan.answerHook = new RememberResponse(affinity, plan);
  const previous = json.previous_response_id;
  if (typeof previous !== 'string') return;
  const owner = affinity.lookup(previous);
  // Deleted through this gateway: no pod holds it now, so the gateway says when, rather than a pod drawn at random
  // answering that it never saw it.
  const deleted = owner === undefined ? affinity.deletedAt(previous, tenant) : undefined;
  if (deleted !== undefined) throw new GatewayError('response_not_found', `previous_response_id \`${shown(previous)}\` names a response deleted through this gateway at ${new Date(deleted).toISOString()}; send the conversation so far as input instead`, 'previous_response_id', false);
  if (tenant !== undefined && owner?.tenant !== tenant) throw unknownPrevious(previous, tenant);
  if (owner) plan.pin = { endpoint: owner.endpoint, responseId: previous, strict: false, owner };
}

/**
 * A `POST /v1/responses` without `model` that continues a response this gateway forwarded (`previous_response_id`):
 * the openai SDKs let a follow-up leave the model out, and vLLM would answer it with its default model (the base
 * model, not the adapter the conversation used), so the follow-up takes the model its previous response was created
 * with. Undefined when the body names no such response (the request keeps its 400 missing_model), or another
 * tenant's (`tenant`, with `--api-keys`).
 */
export function inheritedModel(affinity: ResponseAffinity, body: Buffer | undefined, tenant: string | undefined): { model: string; json: Record<string, unknown> } | undefined {
  if (body === undefined || body.length === 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const obj = json as Record<string, unknown>;
  if (obj.model !== undefined || typeof obj.previous_response_id !== 'string') return undefined;
  const owner = affinity.lookup(obj.previous_response_id);
  if (owner === undefined || owner.tenant !== tenant) return undefined;
  return { model: owner.model, json: obj };
}

/**
 * `GET`/`DELETE /v1/responses/{id}` and `POST .../cancel`: no body, no model. The routing headers are those the
 * response was created with, so the same HTTPRoute rule matches, and the pick is pinned to its endpoint.
 * Throws 404 response_not_found for an id this gateway did not forward.
 */
export function planStoredResponse(affinity: ResponseAffinity, ref: StoredResponseRef, plan: PlanLike, headers: Map<string, string>, tenant: string | undefined): ResponseOwner {
  const found = affinity.lookup(ref.id);
  // Another tenant's response is answered as one this gateway does not know: its existence is not theirs to learn.
  const owner = found !== undefined && found.tenant === tenant ? found : undefined;
  if (!owner) {
    const deleted = affinity.deletedAt(ref.id, tenant);
    if (deleted !== undefined) throw new GatewayError('response_not_found', `response \`${shown(ref.id)}\` was deleted through this gateway at ${new Date(deleted).toISOString()}`, 'response_id', false);
    throw unknownResponse(ref.id, affinity.capacity);
  }
  plan.pin = { endpoint: owner.endpoint, responseId: ref.id, strict: true, owner };
  plan.base = { model: owner.model, baseModel: owner.baseModel, isAdapter: owner.model !== owner.baseModel, source: `response ${ref.id}, created through this gateway` };
  plan.routingHeaders[MODEL_NAME_HEADER] = owner.model;
  plan.routingHeaders[BASE_MODEL_NAME_HEADER] = owner.baseModel;
  headers.set(MODEL_NAME_HEADER, owner.model);
  headers.set(BASE_MODEL_NAME_HEADER, owner.baseModel);
  if (ref.action === 'delete') plan.answerHook = new ForgetResponse(affinity, ref.id, tenant);
  return owner;
}

/**
 * The backendRef of a matched rule that names the pool holding the pinned response, if the rule has one: a rule
 * splitting traffic over pools by weight (a canary or a rollout from one InferencePool to another) must send a
 * request on a stored response, or a follow-up, to the pool that holds it, not to one chosen by weight, where
 * no pod has it. A ref of weight 0 counts too: it takes no new conversations, but those it holds live on.
 */
export function pinnedBackend<B extends { readonly kind: string; readonly namespace: string; readonly name: string }>(refs: readonly B[], pin: EndpointPin | undefined): B | undefined {
  const pool = pin?.owner?.pool;
  if (pool === undefined || refs.length < 2) return undefined;
  return refs.find((b) => b.kind === 'InferencePool' && `${b.namespace}/${b.name}` === pool);
}

/**
 * The routed pool held to the pinned endpoint. When that endpoint is not in the pool any more: a follow-up
 * routes as usual; a request on the stored response gets 503 with retry-after while its pod is not Ready,
 * and 404 response_not_found when the pod is gone (and the response with it).
 */
export function pinnedView(view: PoolView, pin: EndpointPin, model: string | undefined): PoolView {
  const ep = view.endpoints.find((e) => e.address === pin.endpoint);
  if (ep && (pin.strict || model === undefined || ep.serves(model) === true)) return { ...view, endpoints: [ep] };
  // A follow-up routed to another pool than its previous response's: no pod there holds that response.
  if (!pin.strict && pin.owner !== undefined && pin.owner.pool !== view.key) throw otherPoolFollowUp(pin, pin.owner, view.key, model);
  if (!pin.strict) return view;
  const ip = pin.endpoint.slice(0, pin.endpoint.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const starting = view.excluded.find((m) => m.pod.podIP === ip);
  if (starting) {
    const pod = `${starting.pod.meta.namespace}/${starting.pod.meta.name}`;
    throw new NoEndpointError(`response \`${pin.responseId}\` is held by endpoint ${pin.endpoint} (pod ${pod}), which cannot take requests now: ${starting.excluded ?? 'excluded'}. Retry shortly`, [], RETRY_AFTER_SECONDS);
  }
  throw new GatewayError(
    'response_not_found',
    `response \`${pin.responseId}\` was created on endpoint ${pin.endpoint}, which is no longer an endpoint of InferencePool ${view.key} (its pod was deleted or replaced). A model server keeps stored responses in the memory of the pod that created them, so this one is gone; create it again`,
    'response_id',
    false,
  );
}

function otherPoolFollowUp(pin: EndpointPin, owner: ResponseOwner, pool: string, model: string | undefined): GatewayError {
  return new GatewayError(
    'response_not_found',
    `previous_response_id \`${shown(pin.responseId)}\` was created by model ${owner.model} on InferencePool ${owner.pool} (endpoint ${owner.endpoint}); this request${model !== undefined ? ` for model ${shown(model)}` : ''} routes to InferencePool ${pool}, whose pods do not hold it (a model server keeps stored responses in the memory of the pod that created them). Send the follow-up with model ${owner.model}, or send the conversation so far as input instead of previous_response_id`,
    'previous_response_id',
    false,
  );
}

/** A follow-up with keys on whose previous response is not the tenant's (unknown here, or another tenant's). */
function unknownPrevious(id: string, tenant: string): GatewayError {
  return new GatewayError(
    'response_not_found',
    `previous_response_id \`${shown(id)}\` is not a response of tenant ${tenant} known to this gateway. With API keys, a follow-up is sent on only when its previous response was created with a key of the same tenant through this gateway process (the latest responses it forwarded, --max-response-ids); send the conversation so far as input instead`,
    'previous_response_id',
    false,
  );
}

function unknownResponse(id: string, capacity: number): GatewayError {
  return new GatewayError(
    'response_not_found',
    `response \`${id}\` is not known to this gateway. A model server keeps a stored response in the memory of the pod that created it, and the gateway routes GET and DELETE /v1/responses/{id} to that pod by the ids of the responses it forwarded (the latest ${capacity}, --max-response-ids). This one was not created through this gateway process: created before it started, through another gateway replica, with "store": false, or forgotten since`,
    'response_id',
    false,
  );
}

/**
 * A request on a stored response that no route takes, where the gateway remembers no response ids
 * (`--max-response-ids 0`): which pod holds it cannot be told, and the answer says how to change that.
 */
export function untrackedResponse(ref: StoredResponseRef): GatewayError {
  return new GatewayError(
    'response_not_found',
    `response \`${shown(ref.id)}\` cannot be reached through this gateway: it remembers no response ids (--max-response-ids 0), so it cannot tell which pod holds a stored response, and no HTTPRoute rule matches this path. Run it with --max-response-ids N (default on), or add an HTTPRoute rule that matches /v1/responses/ by path`,
    'response_id',
    false,
  );
}

/** A created response's id, read from its first bytes, is remembered with the endpoint that answered. */
class RememberResponse implements AnswerHook {
  readonly #affinity: ResponseAffinity;
  readonly #plan: PlanLike;

  constructor(affinity: ResponseAffinity, plan: PlanLike) {
    this.#affinity = affinity;
    this.#plan = plan;
  }

  answered(status: number, endpoint: string, next: BodyTap | undefined): BodyTap | undefined {
    const plan = this.#plan;
    const model = plan.rewrittenFrom ?? plan.model;
    if (status < 200 || status >= 300 || !plan.view || model === undefined) return next;
    const owner: ResponseOwner = { endpoint, pool: plan.view.key, model, baseModel: plan.base?.baseModel ?? model, tenant: plan.tenant?.name };
    return new ResponseIdTap((id) => this.#affinity.remember(id, owner), next);
  }
}

/** A deleted response is forgotten once its endpoint confirms the delete. */
class ForgetResponse implements AnswerHook {
  readonly #affinity: ResponseAffinity;
  readonly #id: string;
  readonly #tenant: string | undefined;

  constructor(affinity: ResponseAffinity, id: string, tenant: string | undefined) {
    this.#affinity = affinity;
    this.#id = id;
    this.#tenant = tenant;
  }

  answered(status: number, _endpoint: string, next: BodyTap | undefined): BodyTap | undefined {
    if (status >= 200 && status < 300) this.#affinity.forget(this.#id, Date.now(), this.#tenant);
    return next;
  }
}

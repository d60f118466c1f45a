/**
 * The pure decision pipeline shared by the server and `infergate explain`: body-based routing, route
 * matching, pool lookup and endpoint picking, each step recorded so a dry run can print why.
 */
import type { BackendRef } from '../api/http-route.js';
import { BASE_MODEL_NAME_HEADER, MODEL_NAME_HEADER } from '../bbr/routing-headers.js';
import { modelFieldProblem, modelOf, withModel, type ParsedBody } from '../bbr/extract-model.js';
import { bodyModel } from '../bbr/body-model.js';
import type { PromptShape } from '../bbr/prompt-text.js';
import { namingContentType } from '../bbr/body-content-type.js';
import type { ResponseIds } from '../affinity/response-affinity.js';
import { inheritedModel, pinnedBackend, pinnedView, planResponseCreation, planStoredResponse, untrackedResponse, type AnswerHook, type EndpointPin } from '../affinity/responses-stage.js';
import { storedResponseAllow, storedResponseRef, type StoredResponseRef } from '../affinity/stored-response-path.js';
import type { JsonBody } from '../bbr/json-body-parser.js';
import { lookupBaseModel, unknownModelError, type BaseModelResolution } from '../bbr/resolve-base-model.js';
import { routedModels } from './routed-models.js';
import type { ConfigSnapshot } from '../config/snapshot.js';
import type { Datastore, PoolView } from '../epp/datastore/datastore.js';
import type { CandidateVerdict } from '../epp/eligibility.js';
import type { SchedulingContext } from '../epp/framework/plugin.js';
import type { ScheduleResult } from '../epp/framework/scheduler.js';
import type { PoolSchedulers } from '../epp/pool-schedulers.js';
import { GatewayError, MethodNotAllowed, asGatewayError } from '../errors.js';
import { POST_ONLY_PATHS, postBodyOf } from '../route/post-only-paths.js';
import { SERVER_PATHS, serverPathMessage } from '../route/server-paths.js';
import { describeMatch } from '../route/describe.js';
import { explainNoMatch, matchRoute } from '../route/match-route.js';
import { RouteNotFound } from './route-not-found.js';
import type { RouteMatchResult } from '../route/route-request.js';
import { pickBackend } from '../route/pick-backend.js';
import { MODEL_NAME_REWRITE_HEADER, OBJECTIVE_HEADER, aliasedHeader } from '../api/llm-d-names.js';
import { rewriteModel } from '../epp/model-rewrite.js';
import { missingPickerError, type ExternalPickerRef } from '../epp/picker-ref.js';
import type { PickSource } from './pick-outcome.js';
import type { Tenant } from '../tenancy/tenant.js';
import type { FlowControl } from '../flowcontrol/flow-control.js';

export interface GatewayState {
  readonly snapshot: ConfigSnapshot;
  readonly datastore: Datastore;
  readonly strictAllowlist: boolean;
  readonly schedulers: PoolSchedulers;
  /** Flow control's queues (src/flowcontrol), in serve and ext_proc; unset where requests are not queued (explain). */
  readonly flowControl?: FlowControl;
  /** Which endpoint holds each stored Responses API response (src/affinity), or why nothing says. */
  readonly responses: ResponseIds;
  /** False where nothing asks the pods GET /v1/models (`explain --no-discover`); unset, they are asked. */
  readonly discovery?: boolean;
}

export interface IncomingRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  host?: string;
  /** Lower-cased names, reserved routing headers already removed. */
  headers: Map<string, string>;
  body: Buffer | undefined;
  /**
   * The body as parsed while it arrived, within the JSON limits (the server's and the ext_proc servers' path);
   * it throws what the parse found wrong. Without it, `body` is parsed here with the default limits.
   */
  parsedBody?: () => JsonBody | undefined;
  requestId?: string;
  /** An allowed model server admin path (`--allow-admin-paths`): its body names no model, route on path and headers. */
  adminPath?: boolean;
  /** The tenant name of the request's API key (`--api-keys`): only its own stored responses are found. */
  tenant?: string;
}

export interface PlanStep {
  stage: 'bbr' | 'route' | 'pool' | 'pick';
  detail: string;
}

export interface RoutePlan {
  /** What each stage decided, in words: recorded only when `tracing` (explain), never on the data path. */
  steps: PlanStep[];
  tracing: boolean;
  model?: string;
  base?: BaseModelResolution;
  /**
   * No ConfigMap and no pod knows `model`, so `base` is unset. Served only by a pool with pods that cannot say what
   * they serve (Endpoint.modelsUnlisted); any other answer is the 404 model_not_found.
   */
  unknownModel?: boolean;
  /** The parsed body, when it was JSON with a model. */
  json?: Record<string, unknown>;
  /** The size of the body `json` was parsed from. */
  bodyBytes?: number;
  /** Which API `json` is for, where its prompt is not a `prompt` or `messages` (prefix scoring reads it). */
  promptShape?: PromptShape;
  /** The parsed body with where its model sits in the bytes, for replacing the model in place. */
  parsed?: ParsedBody;
  /** The model as sent by the client, when an InferenceModelRewrite changed `model`. */
  rewrittenFrom?: string;
  /** The name of the InferenceModelRewrite that changed `model`. */
  rewriteName?: string;
  /** The model the client's `x-llm-d-model-name-rewrite` header named, when it changed `model`. */
  rewriteHeaderTarget?: string;
  /** When body-based routing finished (`performance.now()`), for traces; set when the plan is timed. */
  bbrDoneAt?: number;
  /** The request's InferenceObjective priority (0 when it names none or an unknown one). */
  priority: number;
  /** The flow key's fairness ID flow control admitted the request under (released under the same one). */
  fairnessId?: string;
  /** The InferenceObjective the request named that its pool (`namespace/name`) does not define; its priority is 0. */
  unknownObjective?: { readonly name: string; readonly pool: string };
  /** The tenant the request's API key names, when `--api-keys` is on (src/tenancy); flow control queues by it. */
  tenant?: Tenant;
  /** The body to forward when BBR had to change it (a `model` with surrounding spaces, trimmed); else undefined. */
  body?: Buffer;
  /** Headers body-based routing adds to the upstream request. */
  routingHeaders: Record<string, string>;
  route?: RouteMatchResult;
  backend?: BackendRef;
  view?: PoolView;
  /** The scheduling cycle's context, kept across failover attempts (it holds the prompt's prefix hashes). */
  schedulingContext?: SchedulingContext;
  /** The last scheduling result (with per-plugin scores when traced). */
  schedule?: ScheduleResult;
  /** The request's headers (lower-cased), for plugins such as session affinity. */
  headers?: Map<string, string>;
  requestId?: string;
  /** Every endpoint's verdict at the last pick, kept even when none was eligible. */
  candidates?: CandidateVerdict[];
  /** The request reads, cancels or deletes a stored Responses API response (src/affinity/stored-response-path.ts). */
  storedResponse?: StoredResponseRef;
  /** The pick is held to this endpoint: it holds the stored response the request names (src/affinity). */
  pin?: EndpointPin;
  /** Told of the upstream's answer before its body passes (src/affinity: the id of a created response). */
  answerHook?: AnswerHook;
  /** The pool's endpointPickerRef names another endpoint picker (src/epp/picker-ref.ts): it picks, not infergate. */
  externalPicker?: ExternalPickerRef;
  /** The endpoints that picker chose, which forward's attempts take in order (src/proxy/external-pick-stage.ts). */
  external?: PickSource;
  error?: GatewayError;
}

export interface PlanOptions {
  /** Record each stage's decision in `steps` (explain). */
  trace?: boolean;
  /** Stop after body-based routing: the ext_proc BBR server, where route matching is the data plane's job. */
  bbrOnly?: boolean;
  /** Record when body-based routing finished (`bbrDoneAt`), for traces. */
  timed?: boolean;
}

/** Runs BBR, route matching and pool lookup; never throws: failures land in `plan.error`. */
export function planRoute(state: GatewayState, req: IncomingRequest, options: PlanOptions = {}): RoutePlan {
  const plan: RoutePlan = { steps: [], routingHeaders: {}, priority: 0, headers: req.headers, tracing: options.trace === true };
  if (req.requestId !== undefined) plan.requestId = req.requestId;
  try {
    bbrStage(state, req, plan, options.bbrOnly === true);
    if (options.timed === true) plan.bbrDoneAt = performance.now();
    if (options.bbrOnly !== true) routeStage(state, req, plan);
  } catch (e) {
    plan.error = asGatewayError(e);
  }
  return plan;
}

/** Records a step for `explain`; the text is only built when the plan is traced. */
export function note(plan: RoutePlan, stage: PlanStep['stage'], detail: () => string): void {
  if (plan.tracing) plan.steps.push({ stage, detail: detail() });
}

function bbrStage(state: GatewayState, req: IncomingRequest, plan: RoutePlan, bbrOnly: boolean): void {
  if (req.adminPath === true) {
    note(plan, 'bbr', () => `${req.path} is a model server admin path allowed by --allow-admin-paths: no model to read, routing on path and headers only`);
    return;
  }
  // A request on a stored Responses API response names no model: it goes where the response was created. A body
  // sent with it (`{}` on a cancel or DELETE, from a client that always sends one) names none either: the model
  // server reads none there, so it is not asked for a model.
  const stored = storedResponseRef(req.method, req.path);
  if (stored !== undefined) {
    plan.storedResponse = stored;
    if (typeof state.responses !== 'string') {
      const owner = planStoredResponse(state.responses, stored, plan, req.headers, req.tenant);
      note(plan, 'bbr', () => `${req.method} on stored response ${stored.id}: routed as its creation was (model ${owner.model}, base model ${owner.baseModel}), pinned to endpoint ${owner.endpoint}`);
      return;
    }
    // Where no ids are kept, it is routed by the rules (its POST .../cancel too, not refused for want of a body).
    const why = state.responses === 'off' ? 'this gateway keeps no response ids (--max-response-ids 0)' : 'no response ids are known here (a running gateway routes it to the endpoint that created the response)';
    note(plan, 'bbr', () => `${req.method} on stored response ${stored.id}: ${why}; no model to read, routing on path and headers only`);
    return;
  }
  const allow = storedResponseAllow(req.method, req.path);
  if (allow !== undefined) throw new MethodNotAllowed(`${req.method} ${req.path} is not served: a stored response's path takes ${allow}`, allow);
  const hasBody = req.body !== undefined && req.body.length > 0;
  if (!hasBody) {
    // Nor does a GET, HEAD, DELETE or OPTIONS without a body, nor any method but POST on an inference path, which
    // routing answers with 405 when no rule takes it. A model server's own endpoints (POST /ping too, as SageMaker's probe sends it) have no body to name a model.
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE' || req.method === 'OPTIONS' || (req.method !== 'POST' && POST_ONLY_PATHS.has(req.path)) || SERVER_PATHS.has(req.path)) {
      note(plan, 'bbr', () => `${req.method} without a body: no model to read, routing on path and headers only`);
      return;
    }
  }
  let parsed: ParsedBody;
  try {
    // Bodies not parsed as they arrived: multipart uploads (by their `model` field), the ext_proc servers', explain's.
    parsed = req.parsedBody ? modelOf(req.parsedBody()) : bodyModel(req.body, req.headers.get('content-type'));
  } catch (e) {
    // A Responses API follow-up may leave the model out: it takes its previous response's (src/affinity).
    const inherited = modelFieldProblem(e) === 'not_found' && req.path === RESPONSES_PATH && req.method === 'POST' && typeof state.responses !== 'string' ? inheritedModel(state.responses, req.body, req.tenant) : undefined;
    if (inherited === undefined) throw namingContentType(e, req.headers.get('content-type'), req.headers.get('content-encoding'));
    parsed = inherited;
    note(plan, 'bbr', () => `no model in body: previous_response_id ${String(inherited.json.previous_response_id)} was created with ${inherited.model}, which the follow-up is sent as`);
  }
  const { model, json } = parsed;
  plan.model = model;
  plan.json = json;
  plan.bodyBytes = req.body?.length ?? 0;
  if (req.path === RESPONSES_PATH) plan.promptShape = 'responses';
  else if (req.path === MESSAGES_PATH) plan.promptShape = 'messages';
  plan.parsed = parsed;
  if (json.model !== model) {
    // Lookup trims the name (as GIE does); the pod must get the same name or it answers 404 for " m ".
    plan.body = withModel(req.body, parsed, model);
  }
  note(plan, 'bbr', () => `model in body: ${model}`);
  plan.routingHeaders[MODEL_NAME_HEADER] = model;
  req.headers.set(MODEL_NAME_HEADER, model);
  const base = lookupWithRewrites(state, model);
  if (base === undefined) {
    // Unknown: no base model to route by. A rule that matches on the path alone may still send it to a pool whose
    // pods cannot say what they serve (routeStage), as GIE's BBR sends an empty base model on; else it is a 404.
    // The ext_proc BBR server leaves route matching to the data plane, so it answers the 404 itself.
    if (bbrOnly) throw unknownModel(state, model);
    plan.unknownModel = true;
    note(plan, 'bbr', () => 'no ConfigMap and no pod knows this model: no base model');
  } else {
    plan.base = base;
    plan.routingHeaders[BASE_MODEL_NAME_HEADER] = base.baseModel;
    note(plan, 'bbr', () => (base.isAdapter ? `adapter of base model ${base.baseModel} (from ${base.source})` : `base model ${base.baseModel} (from ${base.source})`));
    req.headers.set(BASE_MODEL_NAME_HEADER, base.baseModel);
  }
  if (typeof state.responses !== 'string' && req.path === RESPONSES_PATH && req.method === 'POST') planResponseCreation(state.responses, plan, req.tenant);
}

/** Where the Responses API creates a response (vLLM's and OpenAI's path). */
const RESPONSES_PATH = '/v1/responses';
/** Where the Anthropic Messages API creates a message (vLLM's and Anthropic's path). */
const MESSAGES_PATH = '/v1/messages';

/**
 * A model only an InferenceModelRewrite names (an alias such as `small-segment-lora`) routes by the base of
 * its first resolvable target, so clients can use the alias before any pod serves it under that name.
 */
function lookupWithRewrites(state: GatewayState, model: string): BaseModelResolution | undefined {
  const { allowlistTable: table, rewrites } = state.snapshot;
  const catalog = state.datastore.catalog();
  const strict = state.strictAllowlist;
  const direct = lookupBaseModel(model, table, catalog, strict);
  if (direct) return direct;
  for (const list of rewrites.values()) {
    for (const rw of list) {
      for (const rule of rw.rules) {
        if (!rule.models.includes(model)) continue;
        for (const t of rule.targets) {
          const r = lookupBaseModel(t.modelRewrite, table, catalog, strict);
          if (r) return { model, baseModel: r.baseModel, isAdapter: true, source: `InferenceModelRewrite ${rw.meta.namespace}/${rw.meta.name}, via its target ${t.modelRewrite} (${r.source})` };
        }
      }
    }
  }
  return undefined;
}

/**
 * The 404 for a model unknown under every name: it lists the served models. With the request whose routes
 * decide (`routed`), only those its Host's routes reach, as GET /v1/models lists them; without (the ext_proc
 * BBR server, which leaves routing to the data plane), every pool's.
 */
function unknownModel(state: GatewayState, model: string, routed?: IncomingRequest): GatewayError {
  const reached = routed ? routedModels(state, routed.host) : undefined;
  return unknownModelError(model, state.snapshot.allowlistTable, state.datastore.catalog(), state.strictAllowlist, undefined, reached ? (m) => reached.has(m) : undefined);
}

/** Whether a pod of the pool answers GET /v1/models without a model list, and so may serve any model (Endpoint.modelsUnlisted). */
function takesAnyModel(view: PoolView): boolean {
  return view.endpoints.some((ep) => ep.modelsUnlisted);
}

function routeStage(state: GatewayState, req: IncomingRequest, plan: RoutePlan): void {
  const routeReq = { method: req.method, path: req.path, query: req.query, headers: (n: string) => req.headers.get(n), ...(req.host ? { host: req.host } : {}) };
  const m = matchRoute(state.snapshot.routeTable, routeReq);
  if (!m) {
    if (plan.unknownModel === true) throw unknownModel(state, plan.model!, req);
    // vLLM's inference paths take POST only: the wrong method is the answer, not the routing rules.
    if (req.method !== 'POST' && POST_ONLY_PATHS.has(req.path)) throw new MethodNotAllowed(`${req.method} ${req.path} is not served: ${req.path} takes POST (with ${postBodyOf(req.path)})`, 'POST');
    if (plan.base === undefined && SERVER_PATHS.has(req.path)) throw new GatewayError('route_not_found', serverPathMessage(req.method, req.path));
    // BBR found it a request on a stored response; with no ids kept it came here unrouted.
    const untracked = plan.base === undefined && state.responses === 'off' ? plan.storedResponse : undefined;
    if (untracked !== undefined) throw untrackedResponse(untracked);
    const looked = plan.base ? ` for base model \`${plan.base.baseModel}\` (header X-Gateway-Base-Model-Name)` : '';
    const why = explainNoMatch(state.snapshot.routeTable, routeReq);
    throw new RouteNotFound(`no HTTPRoute rule matches ${req.method} ${req.path}${looked}. Add an HTTPRoute rule matching it whose backendRef is ${plan.base ? 'the InferencePool serving that model' : 'an InferencePool'}`, why);
  }
  plan.route = m;
  const matchText = m.rule.matches[m.matchIndex];
  note(plan, 'route', () => `HTTPRoute ${m.route.meta.namespace}/${m.route.meta.name} rule ${m.ruleIndex}${matchText ? ` (${describeMatch(matchText)})` : ''}`);
  const backend = pinnedBackend(m.rule.backendRefs, plan.pin) ?? pickBackend(m.rule);
  if (!backend) {
    throw new GatewayError('pool_not_found', `HTTPRoute ${m.route.meta.namespace}/${m.route.meta.name} rule ${m.ruleIndex} has no backendRef with a weight above 0`);
  }
  plan.backend = backend;
  if (backend.kind !== 'InferencePool') {
    throw new GatewayError('backend_not_supported', `HTTPRoute ${m.route.meta.namespace}/${m.route.meta.name} rule ${m.ruleIndex} sends to ${backend.kind} ${backend.namespace}/${backend.name}; infergate routes to InferencePools only`);
  }
  const key = poolKeyOf(backend);
  const view = state.datastore.pool(key);
  if (!view) {
    // A pool the API server has but infergate set aside as invalid: "does not exist" would send the user to a
    // `kubectl get` that finds it.
    const invalid = state.snapshot.invalidPools?.get(key);
    if (invalid) {
      throw new GatewayError('pool_not_found', `HTTPRoute ${m.route.meta.namespace}/${m.route.meta.name} rule ${m.ruleIndex} names InferencePool ${key}, which is invalid and set aside until it is fixed: ${invalid.join('; ')}`);
    }
    throw new GatewayError('pool_not_found', `HTTPRoute ${m.route.meta.namespace}/${m.route.meta.name} rule ${m.ruleIndex} names InferencePool ${key}, which does not exist; create it or fix the backendRef`);
  }
  if (plan.unknownModel === true && !takesAnyModel(view)) throw unknownModel(state, plan.model!, req);
  plan.view = view;
  // A pool whose endpointPickerRef cannot be resolved is not served (GIE's InferencePoolInvalidEPPService).
  const picker = state.schedulers.pickerRef(key);
  if (picker?.picker === 'missing') throw missingPickerError(key, picker);
  note(plan, 'pool', () => {
    const weights = m.rule.backendRefs.length > 1 ? ` (weight ${backend.weight} of ${m.rule.backendRefs.reduce((s, b) => s + b.weight, 0)})` : '';
    return `InferencePool ${key}${weights}: ${view.endpoints.length} endpoint(s), ${view.excluded.length} selected pod(s) not usable`;
  });
  if (picker?.picker === 'external') {
    // Another endpoint picker serves the pool: the handler asks it (src/proxy/external-pick-stage.ts), and the
    // pool's InferenceObjectives and InferenceModelRewrites are that picker's to apply, as GIE's EPP does.
    plan.externalPicker = picker;
    if (plan.pin !== undefined) plan.view = pinnedView(view, plan.pin, plan.model);
    note(plan, 'pool', () => `endpoints are picked by the external endpoint picker ${picker.service} over ext_proc at ${picker.address.target}; infergate picks only under failureMode FailOpen when it is unavailable (as below)`);
    return;
  }
  objectiveStage(state, req, plan, key);
  rewriteHeaderStage(req, plan);
  rewriteStage(state, req, plan, key);
  // After the rewrite: a follow-up naming an alias (`sql` for `sql-v1`) stays on the endpoint holding its previous
  // response if that endpoint serves the model it will be sent as; no pod serves the alias itself.
  if (plan.pin !== undefined) plan.view = pinnedView(view, plan.pin, plan.model);
}

/**
 * llm-d's `x-llm-d-model-name-rewrite` (GIE's `x-gateway-model-name-rewrite`): the model to send instead of the
 * body's, inside the pool the body's model routed to, as llm-d's director takes it. The pool's
 * InferenceModelRewrites then apply to that target. Under `--api-keys` the key must allow the target too.
 */
function rewriteHeaderStage(req: IncomingRequest, plan: RoutePlan): void {
  const target = aliasedHeader((h) => req.headers.get(h), MODEL_NAME_REWRITE_HEADER)?.trim();
  if (!target || plan.model === undefined || !plan.parsed || target === plan.model) return;
  note(plan, 'pool', () => `model \`${plan.model}\` rewritten to \`${target}\` by the ${req.headers.get(MODEL_NAME_REWRITE_HEADER.name) !== undefined ? MODEL_NAME_REWRITE_HEADER.name : MODEL_NAME_REWRITE_HEADER.alias} header`);
  plan.rewrittenFrom = plan.model;
  plan.rewriteHeaderTarget = target;
  plan.model = target;
  plan.body = withModel(req.body, plan.parsed, target);
}

/** The request's InferenceObjective, named by header, sets its priority for admission under saturation. */
function objectiveStage(state: GatewayState, req: IncomingRequest, plan: RoutePlan, poolKey: string): void {
  const name = aliasedHeader((h) => req.headers.get(h), OBJECTIVE_HEADER);
  if (name === undefined) return;
  const objective = state.snapshot.objectives.get(poolKey)?.get(name);
  if (!objective) {
    plan.unknownObjective = { name, pool: poolKey };
    note(plan, 'pool', () => `InferenceObjective "${name}" is not defined for this pool: priority 0`);
    return;
  }
  plan.priority = objective.priority;
  note(plan, 'pool', () => `InferenceObjective ${poolKey.split('/')[0]}/${name}: priority ${objective.priority}${objective.priority < 0 ? ' (sheddable when the pool is saturated)' : ''}`);
}

/** InferenceModelRewrite: the model is rewritten inside the pool (canary, aliasing); the body follows. */
function rewriteStage(state: GatewayState, req: IncomingRequest, plan: RoutePlan, poolKey: string): void {
  if (plan.model === undefined || !plan.parsed) return;
  const rw = rewriteModel(state.snapshot.rewrites.get(poolKey), plan.model);
  if (!rw || rw.model === plan.model) return;
  // A draw among several targets is said to be one, as the pool's backendRef weights are: another request may differ.
  note(plan, 'pool', () => `model \`${plan.model}\` rewritten to \`${rw.model}\`${rw.weight ? ` (weight ${rw.weight.of} of ${rw.weight.total})` : ''} by ${rw.source}`);
  plan.rewrittenFrom ??= plan.model;
  plan.rewriteName = rw.name;
  plan.model = rw.model;
  plan.body = withModel(req.body, plan.parsed, rw.model);
}

/**
 * `namespace/name` of the InferencePool a backendRef names, built once per ref: a string built per request is
 * flattened and hashed afresh by every map it is looked up in.
 */
const POOL_KEYS = new WeakMap<BackendRef, string>();

function poolKeyOf(backend: BackendRef): string {
  let key = POOL_KEYS.get(backend);
  if (key === undefined) POOL_KEYS.set(backend, (key = `${backend.namespace}/${backend.name}`));
  return key;
}

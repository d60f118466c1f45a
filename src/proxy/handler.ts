/** The per-request HTTP handler: local endpoints, then body-based routing, route matching, picking, forwarding. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isReservedRoutingHeader } from '../bbr/routing-headers.js';
import { GatewayError, asGatewayError, shown } from '../errors.js';
import type { RequestHost } from './request-host.js';
import { forward } from './forward.js';
import { fragmentInTarget, isServerOptions, originForm, unroutableTarget } from './request-target.js';
import { forwardViaExternalPicker } from './external-pick-stage.js';
import { connectionTokens, isHopByHop } from '../upstream/hop-by-hop.js';
import { decodedModelId, isModelsPath, listModels, modelsMethodNotAllowed, retrieveModel } from './list-models.js';
import { planRoute, type IncomingRequest } from '../plan/plan-request.js';
import { recordClientTraceContext, recordPlan } from '../plan/record-plan.js';
import { modelFieldProblem } from '../bbr/extract-model.js';
import { namingContentType } from '../bbr/body-content-type.js';
import { isMultipart } from '../bbr/multipart-model.js';
import { requestIdOf } from '../observability/request-id.js';
import { observedName } from '../observability/observed-name.js';
import { newRequestRecord, type RequestObserver, type RequestRecord } from '../observability/request-record.js';
import { readBody, type BodySink } from './read-body.js';
import { JsonBodyReader } from '../bbr/json-body-reader.js';
import { bodyIntake, smallBodyIntake } from './body-intake.js';
import { QUICK_JSON_MAX_BYTES } from '../bbr/quick-json.js';
import { sendError, sendJson } from './send-error.js';
import { UnreadableRequest } from './client-errors.js';
import { admitRequest, tenantHeaders, tenantPlanError } from '../plan/tenancy-stage.js';
import { headerRecord } from '../tenancy/rate-limit-headers.js';
import { countsTokens } from '../tenancy/uncounted-paths.js';
import { admissionHeaders, type Admission } from '../tenancy/tenancy.js';
import { allowOrigin, answerPreflight, isPreflight } from './cors.js';
import { continueIfAsked } from './expectations.js';
import { ROUTED_METHODS } from './connect-method.js';
import { cutByDrain } from '../lifecycle/http-drain.js';

export function createHandler(gw: RequestHost): (req: IncomingMessage, res: ServerResponse) => void {
  const observer = gw.options.observer;
  return (req, res) => {
    // What metrics, the access log, traces and the dashboard see of this request; none of it without observers.
    const seen: Observed = {};
    handle(gw, req, res, seen).then(
      () => {
        if (seen.record) observed(observer!, seen.record, res);
      },
      (e: unknown) => {
        const r = seen.record;
        // A client that hung up while sending its body is not a gateway failure: nobody is left to answer.
        const clientGone = (e as Error).message === 'aborted' || (e as { code?: string }).code === 'ECONNRESET';
        if (clientGone && !res.headersSent) {
          gw.options.log.debug('client disconnected before its request was complete');
          res.destroy();
          if (r) {
            r.clientGone = true;
            observed(observer!, r, res);
          }
          return;
        }
        // A body that is not JSON, refused as it arrived: its 400 names the Content-Type the client sent.
        const err = asGatewayError(namingContentType(e, req.headers['content-type'], req.headers['content-encoding']));
        if (err.code === 'internal_error') gw.options.log.error('request failed', { error: err.message, stack: (e as Error).stack });
        // Past admission with --api-keys, a refusal carries the tenant's x-ratelimit-* as every answer does (the
        // external picker's FailClose 503 comes here).
        const gatewayHeaders = admissionHeaders(seen.admission, r?.attempts === 0);
        const headers: Record<string, string> = gatewayHeaders !== undefined ? headerRecord(gatewayHeaders) : {};
        if (seen.requestId !== undefined) headers['x-request-id'] = seen.requestId;
        // Node failed the request mid-body (client-errors.ts): the rest of the body cannot be read past.
        if (e instanceof UnreadableRequest) headers.connection = 'close';
        sendError(res, err, headers);
        if (r) {
          r.errorCode = err.code;
          r.modelField ??= modelFieldProblem(err);
          observed(observer!, r, res);
        }
      },
    );
  };
}

/** The request's id, and its record once the handler knows the request is one to observe (not a probe or a model list). */
interface Observed {
  requestId?: string;
  record?: RequestRecord;
  /** The tenant's admission with --api-keys: its `x-ratelimit-*` go on an error thrown after it too. */
  admission?: Admission;
}

/** Closes the record and hands it to the observers, once. */
function observed(observer: RequestObserver, r: RequestRecord, res: ServerResponse): void {
  r.endedAt = performance.now();
  if (r.status === undefined && res.headersSent) r.status = res.statusCode;
  // The drain timeout cut it: its connection closed as a client's hang-up does, but the gateway failed it.
  if (r.clientGone === true && cutByDrain(res)) {
    r.clientGone = false;
    r.errorCode ??= 'shutting_down';
  }
  observer.ended(r);
}

async function handle(gw: RequestHost, req: IncomingMessage, res: ServerResponse, seen: Observed): Promise<void> {
  const method = req.method ?? 'GET';
  // Origin-form (`/...`) but for a client that treats the gateway as a proxy: only its requests pay for this.
  if (req.url !== undefined && req.url.charCodeAt(0) !== SLASH) toOriginForm(req);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const requestId = requestIdOf(req.headers['x-request-id'], gw.options.log);
  seen.requestId = requestId;
  // Every answer carries the id: the upstream's with its headers (forward), the gateway's own with these. Not
  // res.setHeader: a header set ahead sends writeHead down Node's slow path, header by header.
  const id = { 'x-request-id': requestId };
  // A browser's preflight names no model to route by: the gateway's CORS policy answers it, before keys and routes
  // (vLLM's --api-key lets OPTIONS through too).
  if (method === 'OPTIONS' && isPreflight(req)) return answerPreflight(gw.options.cors, req, res, id);
  const origin = req.headers.origin;
  if (origin !== undefined && gw.options.cors !== undefined) allowOrigin(gw.options.cors, origin, res);

  const isGet = method === 'GET' || method === 'HEAD';
  if (isGet && path === '/healthz') return sendJson(res, 200, { status: 'ok' }, id);
  const state = gw.state;
  // Taken with the state: a configuration that comes into force while this request is read does not change it.
  const forwarding = gw.forwardContext;
  if (isGet && path === '/readyz') {
    const details = gw.readiness();
    const extra = Object.keys(details).length > 0 ? { details } : {};
    // Shutting down: load balancers take this replica out while it still serves what they send (src/lifecycle).
    if (gw.shuttingDown) return sendJson(res, 503, { status: 'not ready', reason: 'shutting down', ...(state ? { config_version: state.snapshot.version } : {}), ...extra }, id);
    return state
      ? sendJson(res, 200, { status: 'ready', config_version: state.snapshot.version, ...extra }, id)
      : sendJson(res, 503, { status: 'not ready', reason: gw.options.notReadyReason?.() ?? 'no configuration loaded yet', ...extra }, id);
  }
  const observer = gw.options.observer;
  const record = observer ? newRequestRecord(requestId, method, path, req.socket.remoteAddress) : undefined;
  seen.record = record;
  // Before anything can refuse the request (a 401, a 413, a body cut off): its span joins the client's trace then
  // too, and the access log names that trace.
  if (record) recordClientTraceContext(record, req.headers);
  if (url.charCodeAt(0) !== SLASH) {
    // `OPTIONS *` asks what the server supports: the methods it routes, as the CONNECT 405 lists them.
    if (isServerOptions(method, url)) {
      seen.record = undefined;
      res.writeHead(200, { ...id, allow: ROUTED_METHODS, 'content-length': '0' }).end();
      return;
    }
    throw unroutableTarget(method, url);
  }
  // Before the admin-path check, which reads the path before `?` and would not see `/sleep#x` as /sleep.
  if (url.includes('#')) throw fragmentInTarget(method, url);
  // Before anything else reads the request: an admin path is refused whatever the body or the routes say.
  gw.adminPaths.check(path);
  if (!state) throw new GatewayError('not_ready', 'the gateway has no configuration in force yet; retry shortly');
  // --api-keys: who is asking (401 otherwise), before any body is read (src/tenancy); nothing runs without the flag.
  const tenancy = gw.options.tenancy;
  const key = tenancy?.authenticate(req.headers);
  // Known from here, so every refusal of the key's requests (403s, a 404, a 429) is logged as its tenant's too.
  if (key && record) record.tenant = key.tenant;
  // The answers from here to the body's read are the gateway's own; explain mirrors them (src/cli/explain-own-answer.ts).
  if (!isGet && isModelsPath(path)) throw modelsMethodNotAllowed(method, path);
  // `/v1/models/` too: it names no model (vLLM redirects it to the list), where retrieving `` would be a 404.
  if (isGet && (path === '/v1/models' || path === '/v1/models/')) {
    // The gateway's own answer, not a request to observe.
    seen.record = undefined;
    // The Host as routing reads it (below): a route for another hostname reaches none of its pools from here.
    const models = listModels(state, req.headers.host);
    if (key) models.data = tenancy!.visibleModels(key, models.data);
    return sendJson(res, 200, models, id);
  }
  if (isGet && path.startsWith('/v1/models/')) {
    // The SDK's models.retrieve, from the same list; an unknown model's 404 lists the served ones. Its refusals
    // (model_not_found, model_not_allowed) are counted as a chat request's for that model are; a card is not.
    const modelId = decodedModelId(path.slice('/v1/models/'.length));
    if (record) record.model = record.targetModel = observedName(modelId);
    // A key's 403 comes first, and its 404 lists only the models it may use: the other tenants' stay unnamed.
    if (key) tenancy!.checkModel(key, modelId);
    const card = retrieveModel(state, path.slice('/v1/models/'.length), key ? (m) => key.models.allows(m) : undefined, req.headers.host);
    seen.record = undefined;
    return sendJson(res, 200, card, id);
  }
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  // Node takes `Transfer-Encoding: gzip, chunked` and hands over the still-compressed bytes: refused here, before
  // they are parsed as JSON (a 400 about byte 0x1f) or, on a route that does not read them, forwarded as plain.
  checkTransferEncoding(req.headers['transfer-encoding']);
  const adminPath = gw.adminPaths.allowed.length > 0 && gw.adminPaths.isAdmin(path);
  // An admin path the gateway lets through takes only the keys allowed it, not every tenant's.
  if (adminPath && key) tenancy!.checkAdminPath(key, path);
  // Parsed as it arrives, so a body over the JSON limits is refused before the rest is kept (issue #10); an allowed
  // admin path's body is not read by the gateway, and a multipart upload's model is found once it is whole.
  const parser = adminPath || isMultipart(req.headers['content-type']) ? undefined : new JsonBodyReader(gw.jsonLimits);
  let body: Buffer | undefined;
  if (hasBody || (method !== 'GET' && method !== 'HEAD')) {
    // Expect: 100-continue is answered only now that the body is wanted (src/proxy/expectations.ts).
    continueIfAsked(req, res);
    body = await readBody(req, gw.bodyLimits.of(req.headers['content-type']), intakeOf(gw, req, res, parser));
  }

  const tokens = connectionTokens(req.headers.connection);
  const lower = new Map<string, string>();
  const upstreamHeaders: Record<string, string | string[]> = {};
  const incoming = req.headers;
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || isHopByHop(name, tokens) || isReservedRoutingHeader(name)) continue;
    lower.set(name, Array.isArray(value) ? value.join(', ') : value);
    // The Host goes to the pod as the client sent it, as Envoy forwards :authority (GIE's conformance pods check
    // it); the length is set by the upstream client; Expect would make it wait for a 100 we never relay.
    if (name !== 'content-length' && name !== 'expect') upstreamHeaders[name] = value;
  }
  if (key) tenantHeaders(tenancy!, key, lower, upstreamHeaders);
  const input: IncomingRequest = { requestId, method, path, query: query === '' ? NO_QUERY : new URLSearchParams(query), headers: lower, body };
  // Bound, not `() => parser.end()`: V8 allocates a function literal assigned to a property in the old generation
  // (it takes it for a method), and an old closure keeps the request it captures alive through every scavenge until
  // a full collection (docs/benchmarks.md, "A garbage-collector state that comes and goes").
  if (parser) input.parsedBody = parser.end.bind(parser);
  if (adminPath) input.adminPath = adminPath;
  if (incoming.host) input.host = incoming.host;
  if (key) input.tenant = key.tenant.name;
  // The stages are timed only for an observer that reads their ends (traces).
  const stageTimes = record !== undefined && observer!.stageTimes === true;
  const plan = planRoute(state, input, stageTimes ? TIMED : undefined);
  if (record) {
    recordPlan(record, plan, stageTimes);
    record.requestBytes = body?.length ?? 0;
  }
  if (plan.error) {
    // With a key, a model it may not use is its 403 and an unknown model's 404 names only the key's models.
    const error = key ? tenantPlanError(tenancy!, key, plan, state, incoming.host) : plan.error;
    gw.options.log.debug('request rejected', { request_id: requestId, code: error.code, message: error.message });
    if (record) {
      record.errorCode = error.code;
      record.modelField = modelFieldProblem(error);
    }
    return sendError(res, error, id);
  }
  // The key's models (403) and its tenant's limits (429, with OpenAI's x-ratelimit-* headers, as every answer has).
  let admission: Admission | undefined;
  if (key) {
    try {
      // An upload's bytes (multipart/form-data: audio) are not prompt text: at 4 bytes a token a 1 MB recording of
      // half a minute was "250,000 tokens", past any tokensPerMinute. It is counted for its usage when it ends.
      // Tokenizing or rendering a prompt runs no model: such a request counts, its body's tokens do not.
      const prompt = isMultipart(req.headers['content-type']) || !countsTokens(path) ? 0 : (body?.length ?? 0);
      const a = admitRequest(tenancy!, key, plan, prompt, record);
      admission = a instanceof Promise ? await a : a;
      seen.admission = admission;
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      if (record) record.errorCode = e.code;
      return sendError(res, e, id);
    }
  }
  Object.assign(upstreamHeaders, plan.routingHeaders);
  upstreamHeaders['x-request-id'] = requestId;
  const peer = req.socket.remoteAddress;
  if (peer) upstreamHeaders['x-forwarded-for'] = lower.has('x-forwarded-for') ? `${lower.get('x-forwarded-for')}, ${peer}` : peer;
  // The scheme the client used, as Envoy sets it: https on a traffic port serving TLS (--cert-file).
  upstreamHeaders['x-forwarded-proto'] = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  // A pool another endpoint picker serves (its endpointPickerRef): that picker is asked over ext_proc first.
  if (plan.externalPicker !== undefined) return forwardViaExternalPicker(gw, forwarding!, plan, { method, url, headers: upstreamHeaders, body: plan.body ?? body, requestId, admission, record }, res);

  await forward(forwarding!, plan, { method, url, headers: upstreamHeaders, body: plan.body ?? body, requestId, admission, record }, res);
}

/**
 * How the body is taken in: a JSON body whose Content-Length fits the quick parse skips the lease and the work
 * slice (nothing to slice, nothing to wait for); any other is leased and parsed as it arrives.
 */
function intakeOf(gw: RequestHost, req: IncomingMessage, res: ServerResponse, parser: JsonBodyReader | undefined): BodySink {
  const declared = Number(req.headers['content-length']);
  if (parser && declared <= QUICK_JSON_MAX_BYTES) return smallBodyIntake(gw.bodyBudget, res, parser, declared);
  return bodyIntake(gw.bodyBudget, gw.workSlice, res, parser);
}

/**
 * An absolute-form target (RFC 9112 §3.2.2) rewritten in place to origin-form, its authority as the Host, so
 * routing, the records and the upstream request all see what an origin-form request would have sent.
 */
function toOriginForm(req: IncomingMessage): void {
  const origin = originForm(req.url!);
  if (!origin) return;
  req.url = origin.url;
  req.headers.host = origin.host;
}

/** The one transfer coding the gateway takes: chunked alone. */
const CHUNKED_ONLY = /^\s*chunked\s*$/i;

/** A request body in any transfer coding but chunked (gzip, deflate, ...): 400, since the gateway decodes none of them. */
function checkTransferEncoding(te: string | undefined): void {
  if (te === undefined || CHUNKED_ONLY.test(te)) return;
  throw new GatewayError('bad_request', `Transfer-Encoding: ${shown(te)} is not taken: the gateway reads a request body sent as is or with Transfer-Encoding: chunked alone, not compressed; send the body uncompressed`);
}

const SLASH = 0x2f;
const TIMED = { timed: true } as const;
/** The query of every request without one (nothing changes a request's query after it is parsed). */
const NO_QUERY = new URLSearchParams();

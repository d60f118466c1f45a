/**
 * The Gateway and GatewayClass status infergate writes for the Gateways it serves: `Accepted` and `Programmed`,
 * one `listeners[]` entry per listener (HTTPRoute, attached route count), and the class's `Accepted`
 * (Gateway API's GatewayStatus and GatewayClassStatus). Pure functions; status-writer.ts sends the result.
 */
import { isIP } from 'node:net';
import type { HTTPRoute } from '../../api/http-route.js';
import { GATEWAY_GROUP } from '../../route/parent-gateway.js';
import { keepTransitionTimes, normalizeConditions, type ConditionJson } from './pool-status.js';
import type { KubeObject } from './kube-object.js';
import { INFERGATE_CONTROLLER_NAME, servedParents } from './route-status.js';

export interface ListenerStatusJson {
  name: string;
  supportedKinds: { group: string; kind: string }[];
  attachedRoutes: number;
  conditions: ConditionJson[];
}

export interface GatewayStatusJson {
  addresses?: { type?: string; value: string }[];
  conditions: ConditionJson[];
  listeners: ListenerStatusJson[];
}

export interface GatewayFacts {
  routes: readonly HTTPRoute[];
  /** `--gateway-name`: the Gateways so named are infergate's, whatever their class. */
  gatewayName?: string;
  controllerName?: string;
  /** `--gateway-address`: where clients reach infergate, for Gateways that set no spec.addresses. */
  addresses?: readonly string[];
}

/** The GatewayClasses whose `spec.controllerName` is infergate's. */
export function ourClasses(classes: Iterable<KubeObject>, controllerName = INFERGATE_CONTROLLER_NAME): KubeObject[] {
  return [...classes].filter((c) => (c.spec as { controllerName?: unknown } | undefined)?.controllerName === controllerName);
}

/**
 * The Gateways infergate serves: those named `--gateway-name` when it is given, else those of a GatewayClass
 * with infergate's controllerName. Other controllers' Gateways are not written. When GatewayClasses cannot be
 * read (`classes` undefined: a namespaced Role cannot grant them), every Gateway counts, as routing does.
 */
export function ourGateways(gateways: Iterable<KubeObject>, classes: Iterable<KubeObject> | undefined, facts: GatewayFacts): KubeObject[] {
  if (facts.gatewayName !== undefined) return [...gateways].filter((g) => g.metadata.name === facts.gatewayName);
  if (classes === undefined) return [...gateways];
  const names = new Set(ourClasses(classes, facts.controllerName).map((c) => c.metadata.name));
  return [...gateways].filter((g) => names.has(String((g.spec as { gatewayClassName?: unknown } | undefined)?.gatewayClassName)));
}

/** What infergate says of one Gateway it serves (conditions without lastTransitionTime). */
export function desiredGatewayStatus(gateway: KubeObject, facts: GatewayFacts): GatewayStatusJson {
  const ns = gateway.metadata.namespace ?? 'default';
  const spec = (gateway.spec ?? {}) as { listeners?: { name?: unknown }[]; addresses?: { type?: unknown; value?: unknown }[] };
  // parentRefs naming this Gateway, by the listener (sectionName) they ask for, if any.
  const attached: (string | undefined)[][] = facts.routes.map((r) =>
    servedParents(r, facts.gatewayName)
      .filter((p) => p.name === gateway.metadata.name && (p.namespace ?? r.meta.namespace) === ns)
      .map((p) => p.sectionName),
  );
  const listeners = (Array.isArray(spec.listeners) ? spec.listeners : []).flatMap((l) => {
    if (typeof l?.name !== 'string') return [];
    const name = l.name;
    const attachedRoutes = attached.filter((sections) => sections.some((s) => s === undefined || s === name)).length;
    return [{ name, supportedKinds: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }], attachedRoutes, conditions: listenerConditions() }];
  });
  // The Gateway's own spec.addresses echoed, else --gateway-address: infergate does not look up its Service's address.
  const requested = (Array.isArray(spec.addresses) ? spec.addresses : []).flatMap((a) =>
    typeof a?.value === 'string' ? [{ ...(typeof a.type === 'string' ? { type: a.type } : {}), value: a.value }] : [],
  );
  const addresses = requested.length > 0 ? requested : (facts.addresses ?? []).map((value) => ({ type: isIP(value) ? 'IPAddress' : 'Hostname', value }));
  const routes = attached.filter((s) => s.length > 0).length;
  return {
    ...(addresses.length > 0 ? { addresses } : {}),
    conditions: [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'infergate accepts this Gateway' },
      { type: 'Programmed', status: 'True', reason: 'Programmed', message: `infergate serves this Gateway: ${routes} HTTPRoute${routes === 1 ? '' : 's'} attached` },
    ],
    listeners,
  };
}

function listenerConditions(): ConditionJson[] {
  return [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'infergate accepts this listener' },
    { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'infergate serves this listener' },
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'this listener has no references to resolve' },
  ];
}

/** GatewayClass `Accepted` True (conditions without lastTransitionTime). */
export function gatewayClassConditions(): ConditionJson[] {
  return [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'infergate is the controller of this GatewayClass' }];
}

/**
 * The new Gateway status: `desired`, with each condition keeping its lastTransitionTime while its status is
 * unchanged. Returns undefined when nothing would change, so no write is sent.
 */
export function mergeGatewayStatus(existing: unknown, desired: GatewayStatusJson, generation: number | undefined, now: string): GatewayStatusJson | undefined {
  const before = (existing ?? {}) as { addresses?: unknown; conditions?: ConditionJson[]; listeners?: ListenerStatusJson[] };
  const oldListeners = Array.isArray(before.listeners) ? before.listeners : [];
  const next: GatewayStatusJson = {
    ...(desired.addresses ? { addresses: desired.addresses } : {}),
    conditions: keepTransitionTimes(desired.conditions, conditionsOf(before), generation, now),
    listeners: desired.listeners.map((l) => ({ ...l, conditions: keepTransitionTimes(l.conditions, conditionsOf(oldListeners.find((o) => o?.name === l.name)), generation, now) })),
  };
  const same =
    JSON.stringify(before.addresses ?? null) === JSON.stringify(next.addresses ?? null) &&
    JSON.stringify(normalizeConditions(conditionsOf(before))) === JSON.stringify(normalizeConditions(next.conditions)) &&
    JSON.stringify(oldListeners.map(normalizeListener)) === JSON.stringify(next.listeners.map(normalizeListener));
  return same ? undefined : next;
}

/** The new GatewayClass conditions, or undefined when unchanged. */
export function mergeClassConditions(existing: unknown, generation: number | undefined, now: string): ConditionJson[] | undefined {
  const before = conditionsOf(existing);
  // Other condition types (SupportedVersion, set by no one here) are kept as they are.
  const ours = keepTransitionTimes(gatewayClassConditions(), before, generation, now);
  const next = [...before.filter((c) => !ours.some((o) => o.type === c.type)), ...ours];
  return JSON.stringify(normalizeConditions(before)) === JSON.stringify(normalizeConditions(next)) ? undefined : next;
}

function conditionsOf(status: unknown): ConditionJson[] {
  const c = (status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(c) ? c.filter((x): x is ConditionJson => !!x && typeof x === 'object' && typeof (x as ConditionJson).type === 'string') : [];
}

function normalizeListener(l: ListenerStatusJson | undefined): unknown {
  if (!l) return null;
  return [l.name, JSON.stringify(l.supportedKinds ?? []), l.attachedRoutes ?? null, normalizeConditions(conditionsOf(l))];
}

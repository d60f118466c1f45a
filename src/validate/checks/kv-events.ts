/**
 * Pools whose EndpointPickerConfig scores by the pods' KV events (`precise-prefix-cache-producer`, the legacy
 * `precise-prefix-cache-scorer`) while a ready model server's vLLM args say the gateway will receive none from
 * it: no `--kv-events-config` (vLLM publishes nothing by default), events off, a port other than the one the
 * gateway subscribes to, or a topic its filter drops. Such a pod is scored on the approximate view only, which
 * nothing else reports before traffic. Judged with the gateway's own settings (socketPort, the pod annotation,
 * topicFilter), as src/epp/plugin-host.ts subscribes.
 */
import type { InferencePool } from '../../api/inference-pool.js';
import { isKvEventsPlugin } from '../../epp/plugin-runtime.js';
import { EPP_CONFIG_ANNOTATION } from '../../epp/pool-schedulers.js';
import { KV_EVENTS_PORT_ANNOTATION, type KvEventsSettings } from '../../kvevents/kv-events-settings.js';
import { KV_TOPIC_PREFIX } from '../../kvevents/wire-format.js';
import type { Check } from '../check.js';
import { formatObject, type Finding } from '../finding.js';
import { describeServer, type ModelServer } from '../model-servers.js';
import { poolConfigs } from '../pool-configs.js';
import { poolServed } from '../validation-context.js';
import { boundPort } from '../vllm-kv-events.js';

const EXAMPLE = `'{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:PORT","topic":"kv@$(POD_IP):$(POD_PORT)@MODEL"}'`;

export const kvEvents: Check = {
  name: 'kv-events',
  codes: ['kv-events-not-received'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const [key, config] of poolConfigs(ctx)) {
      const pool = ctx.snapshot.pools.get(key)!;
      const plugin = [...config.plugins.values()].find(isKvEventsPlugin);
      // discoverPods false without zmqEndpoint receives nothing from anyone: the config's own load warning says so.
      if (!plugin || (!plugin.kvEventsSettings.discoverPods && plugin.kvEventsSettings.zmqEndpoint === '')) continue;
      const at = plugin.name === plugin.type ? plugin.name : `${plugin.name} (${plugin.type})`;
      for (const server of poolServed(ctx, key).ready) {
        const problem = server.kvEvents && problemOf(server, plugin.kvEventsSettings);
        if (problem) findings.push(finding(pool, server, at, problem));
      }
    }
    return findings;
  },
};

/** Why the gateway receives no event from this server, and what to change; undefined when it does. */
function problemOf(server: ModelServer, s: KvEventsSettings): { why: string; fix: string } | undefined {
  const pub = server.kvEvents!;
  const annotated = Number(server.kvEventsPort);
  const port = server.kvEventsPort !== undefined && Number.isInteger(annotated) && annotated >= 1 && annotated <= 65535 ? annotated : s.socketPort;
  const portFrom = port === s.socketPort && server.kvEventsPort === undefined ? 'kvEventsConfig.podDiscoveryConfig.socketPort' : `its ${KV_EVENTS_PORT_ANNOTATION} annotation`;
  if (!pub.publishes) {
    return {
      why: `its vLLM args have ${pub.why}, so it publishes no KV events`,
      fix: `Start its vLLM with --kv-events-config ${EXAMPLE.replace('PORT', String(port))} (and --enable-prefix-caching).`,
    };
  }
  const bound = boundPort(pub.endpoint);
  if (bound === undefined && s.zmqEndpoint === '') {
    return {
      why: `its --kv-events-config endpoint ${pub.endpoint} connects out rather than binding a port, and the config sets no kvEventsConfig.zmqEndpoint for the gateway to bind, so nothing listens where it sends`,
      fix: `Set its endpoint to tcp://*:${port}, which the gateway subscribes to; or set kvEventsConfig.zmqEndpoint to the address the pods connect to.`,
    };
  }
  if (bound !== undefined && s.discoverPods && bound !== port && s.zmqEndpoint === '') {
    return {
      why: `its --kv-events-config endpoint binds port ${bound}, while the gateway subscribes to port ${port} (${portFrom})`,
      fix: `Make the two agree: set the endpoint to tcp://*:${port}, or set ${portFrom === 'kvEventsConfig.podDiscoveryConfig.socketPort' ? `socketPort: ${bound} in the EndpointPickerConfig (or annotate the pod ${KV_EVENTS_PORT_ANNOTATION}: "${bound}")` : `the annotation to "${bound}"`}.`,
    };
  }
  if (!pub.topic.startsWith(s.topicFilter)) {
    return {
      why: `its --kv-events-config topic is ${JSON.stringify(pub.topic)}${pub.topic === '' ? " (vLLM's default)" : ''}, and the gateway subscribes only to topics starting with ${JSON.stringify(s.topicFilter)} (kvEventsConfig.topicFilter): every message is dropped`,
      fix: `Set the topic to "kv@$(POD_IP):$(POD_PORT)@<model>" in its --kv-events-config (the model after the second @ roots the block keys)${s.topicFilter === KV_TOPIC_PREFIX ? '' : `, starting with ${JSON.stringify(s.topicFilter)}`}.`,
    };
  }
  return undefined;
}

function finding(pool: InferencePool, server: ModelServer, plugin: string, problem: { why: string; fix: string }): Finding {
  const where = pool.meta.annotations[EPP_CONFIG_ANNOTATION] !== undefined ? `ConfigMap ${pool.meta.namespace}/${pool.meta.annotations[EPP_CONFIG_ANNOTATION]}` : 'its EndpointPickerConfig';
  return {
    object: server.ref,
    location: server.location,
    field: server.template ? 'spec.template.spec.containers' : 'spec.containers',
    severity: 'warning',
    code: 'kv-events-not-received',
    message:
      `is selected by ${formatObject({ kind: 'InferencePool', namespace: pool.meta.namespace, name: pool.meta.name })}, whose ${where} scores by the pods' KV events (${plugin}), but ${problem.why}. ` +
      `The gateway receives nothing from ${describeServer(server)}, so it is scored on the approximate view only: precise prefix routing does not apply to it.`,
    fix: problem.fix,
  };
}

/**
 * What `infergate demo` prints once its fleet is up: the pods, the models, and commands to try. The commands
 * name models of the fleet that is running: with `-f` another configuration's, not the default example's.
 */

/** One simulated pod as the banner shows it. */
export interface BannerPod {
  podName: string;
  url: string;
  model: string;
  loras: readonly string[];
}

export function demoBanner(gatewayUrl: string, adminUrl: string | undefined, configPath: string, pods: readonly BannerPod[]): string {
  const models = pods.flatMap((p) => [p.model, ...p.loras]).filter((m, i, a) => a.indexOf(m) === i);
  const first = pods[0];
  const last = pods.at(-1);
  // An adapter shows body-based routing to its base model; a base model of another pod, a second pool.
  const chat = first ? (first.loras[0] ?? first.model) : 'MODEL';
  const stream = last?.model ?? 'MODEL';
  const explained = last ? (last.loras[0] ?? last.model) : 'MODEL';
  const json = (o: unknown): string => JSON.stringify(o);
  const lines = [
    '',
    `infergate demo: gateway on ${gatewayUrl}, ${pods.length} simulated vLLM pods:`,
    ...(adminUrl ? [`Dashboard: ${adminUrl}/ (and Prometheus metrics at ${adminUrl}/metrics)`] : []),
    ...pods.map((p) => `  ${p.podName.padEnd(20)} ${p.url}  ${p.model}${p.loras.length ? ` + ${p.loras.join(', ')}` : ''}`),
    '',
    `Models: ${models.join(', ')}`,
    '',
    'Try:',
    '',
    `  curl -s ${gatewayUrl}/v1/models`,
    `  curl -si ${gatewayUrl}/v1/chat/completions -H 'content-type: application/json' -d '${json({ model: chat, messages: [{ role: 'user', content: 'Hello' }] })}'`,
    `  curl -sN ${gatewayUrl}/v1/completions -H 'content-type: application/json' -d '${json({ model: stream, prompt: 'Hello', max_tokens: 8, stream: true })}'`,
    `  curl -s ${gatewayUrl}/v1/completions -H 'content-type: application/json' -d '${json({ model: 'no-such-model', prompt: 'Hello' })}'`,
    `  npx infergate explain -f ${configPath} --body '${json({ model: explained, prompt: 'Hello' })}'`,
    '',
    'The response header x-gateway-destination-endpoint-served names the pod that served it. Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
}

/** `infergate demo` (what `npm start` runs): the report's fleet on simulators, the gateway in front. */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../logger.js';
import { startSimulator, type RunningSimulator } from '../sim/simulator.js';
import { demoBanner } from './demo-banner.js';
import { fleetFromConfig } from './demo-fleet.js';
import { hostFlag, intFlag } from './parse-flags.js';
import { onShutdown, onSighupReopen } from './on-shutdown.js';
import { startGateway, type RunningGateway } from './start-gateway.js';
import { addAdminOptions, adminOptionsOf, type AdminFlags } from './admin-options.js';
import { loggerOrExit, tracingOrExit } from './shared-options.js';
import type { TracingConfig } from '../observability/tracing/tracing-config.js';
import { accessLogTarget, type AccessLogTarget } from '../observability/access-log.js';
import { exitStartup, missingConfigPathNamed } from './startup-failure.js';

const SEED_DEMO_DIR = fileURLToPath(new URL('../../../examples/seed-demo', import.meta.url));

interface Demo {
  gateway: RunningGateway;
  simulators: RunningSimulator[];
  close(): Promise<void>;
}

interface DemoOptions {
  configPath: string;
  host: string;
  port: number;
  ttftMs?: number;
  itlMs?: number;
  logLevel?: LogLevel;
  /** The gateway's log, as `serve --log-format`: text unless json. */
  log?: Logger;
  tracing?: TracingConfig;
  /** The admin listener (the dashboard at GET /, /metrics). */
  admin?: { adminPort: number; adminHost?: string; enablePprof?: boolean };
  /** `--access-log`, as `serve`. */
  accessLog?: AccessLogTarget;
  /** `--debug-decisions`, as `serve`: recent decisions kept for GET /debug/scheduling and the dashboard. */
  debugDecisions?: number;
}

/** Starts one simulator per Pod in the config, then the gateway on that same config. */
async function startDemo(opts: DemoOptions): Promise<Demo> {
  const fleet = await fleetFromConfig(opts.configPath, {
    mode: 'random',
    ...(opts.ttftMs !== undefined ? { ttftMs: opts.ttftMs } : {}),
    ...(opts.itlMs !== undefined ? { itlMs: opts.itlMs } : {}),
  });
  // The demo simulates the config's Pods once, at start: with none, it would serve a gateway that 404s or 503s
  // every request and a banner naming no model, so it stops here and says what it needs.
  if (fleet.length === 0) {
    throw new Error(`${opts.configPath} has no Pod with a status.podIP and a --model in its container args, so there is nothing to simulate (see examples/seed-demo); to route to real pods, run \`infergate serve -f ${opts.configPath}\``);
  }
  const simulators: RunningSimulator[] = [];
  try {
    for (const m of fleet) simulators.push(await startSimulator(m));
    const gateway = await startGateway({
      configPath: opts.configPath,
      host: opts.host,
      port: opts.port,
      log: opts.log ?? createLogger(opts.logLevel ?? 'info'),
      ...(opts.tracing ? { tracing: opts.tracing } : {}),
      ...opts.admin,
      ...(opts.accessLog ? { accessLog: opts.accessLog } : {}),
      ...(opts.debugDecisions !== undefined ? { debugDecisions: opts.debugDecisions } : {}),
    });
    return {
      gateway,
      simulators,
      close: async () => {
        await gateway.close();
        await Promise.all(simulators.map((s) => s.close()));
      },
    };
  } catch (e) {
    await Promise.all(simulators.map((s) => s.close()));
    throw e;
  }
}

export function registerDemoCommand(program: Command): void {
  const cmd = program
    .command('demo')
    .description("run a simulated fleet behind the gateway: one simulator per Pod in the config (default: the field report's 2 base models x 2 LoRA adapters x 2 replicas)")
    .option('-f, --file <path>', 'config directory (its Pods become simulators)', SEED_DEMO_DIR)
    .option('--host <host>', 'gateway address', hostFlag, '127.0.0.1')
    .option('--port <port>', 'gateway port', intFlag(0, 65535), 8080)
    .option('--ttft <ms>', 'extra simulated latency before the first token (on top of prefill)', intFlag(0), 20)
    .option('--itl <ms>', 'simulated inter-token latency', intFlag(0), 15)
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--log-format <format>', 'the gateway\'s log, as `serve`: text or json', 'text')
    .option('--otlp-endpoint <url>', "OpenTelemetry tracing to this collector's OTLP endpoint, as `serve` (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else off)")
    .option('--otlp-protocol <protocol>', 'how spans are exported, as `serve`: http/protobuf, http/json or grpc (default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)')
    .option('--access-log <where>', 'one JSON line per request, as `serve`: stdout, a file path (appended), or off', 'off')
    .option('--debug-decisions <n>', "recent scheduling decisions (with every plugin's scores) kept for GET /debug/scheduling on the admin port and the dashboard, as `serve`; 0 (the default) turns it off", intFlag(0, 100_000), 0);
  // The admin listener as `serve` has it, so the demo's dashboard (GET /) and /metrics can be opened.
  addAdminOptions(cmd).action(async (flags: AdminFlags & { file: string; host: string; port: number; ttft: number; itl: number; logLevel: LogLevel; logFormat: string; otlpEndpoint?: string; otlpProtocol?: string; accessLog: string; debugDecisions: number }) => {
      const log = loggerOrExit(flags);
      const tracing = tracingOrExit(flags, log);
      let demo: Demo;
      try {
        const accessLog = accessLogTarget(flags.accessLog);
        demo = await startDemo({ configPath: flags.file, host: flags.host, port: flags.port, ttftMs: flags.ttft, itlMs: flags.itl, logLevel: flags.logLevel, log, ...(tracing ? { tracing } : {}), admin: adminOptionsOf(flags, flags), ...(accessLog ? { accessLog } : {}), debugDecisions: flags.debugDecisions });
      } catch (e) {
        exitStartup(`error: could not start the demo: ${(missingConfigPathNamed(e, flags.file) as Error).message}`, 1);
      }
      const pods = demo.simulators.map((s) => ({ podName: s.options.podName, url: s.url, model: s.options.model, loras: s.options.loras }));
      // Handlers first: a signal sent as soon as the banner is read must not meet Node's default (exit).
      onShutdown(() => demo.close());
      onSighupReopen(demo.gateway.accessLog, flags.accessLog, log);
      // With the access log on stdout, stdout is JSON lines only (for a pipe to jq or a shipper): the banner goes to stderr.
      const say = accessLogTarget(flags.accessLog) === 'stdout' ? console.error : console.log;
      say(demoBanner(demo.gateway.url, demo.gateway.adminUrl, flags.file, pods));
    });
}

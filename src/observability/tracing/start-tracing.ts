/**
 * Builds the tracing pipeline, loading the OpenTelemetry SDK and its OTLP exporters only then: a process with
 * tracing off (the default) never loads them (about 0.1 s and several MiB at startup).
 */
import type { Logger } from '../../logger.js';
import type { Tracing } from './tracing.js';
import type { TracingConfig } from './tracing-config.js';

export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracing> {
  const { Tracing } = await import('./tracing.js');
  return new Tracing(config, log);
}

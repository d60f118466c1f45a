/** Loads an EndpointPickerConfig from YAML text or a file into a SchedulerConfig, or throws every problem at once. */
import { readFile } from 'node:fs/promises';
import type { PluginRegistry } from '../framework/registry.js';
import { buildSchedulerConfig, type BuildOptions, type LoadedEndpointPickerConfig } from './build-scheduler-config.js';
import { parseEndpointPickerConfig } from './endpoint-picker-config.js';
import { EndpointPickerConfigError } from './epp-config-error.js';

export interface LoadOptions extends BuildOptions {
  /** Named in every message. */
  file: string;
  /** Usually `registerBuiltins()`. */
  registry: PluginRegistry;
}

/** Throws EndpointPickerConfigError listing every problem; warnings (deprecations, ignored fields) are returned. */
export function loadEndpointPickerConfig(text: string, options: LoadOptions): LoadedEndpointPickerConfig {
  const parsed = parseEndpointPickerConfig(text, options.file);
  // Structural problems first: building on a half-read spec would only add confusing follow-up errors.
  if (parsed.issues.length > 0) throw new EndpointPickerConfigError(parsed.issues);
  const { loaded, issues } = buildSchedulerConfig(parsed, options.file, options.registry, options);
  if (!loaded || issues.length > 0) throw new EndpointPickerConfigError(issues);
  return loaded;
}

export async function loadEndpointPickerConfigFile(path: string, options: Omit<LoadOptions, 'file'>): Promise<LoadedEndpointPickerConfig> {
  return loadEndpointPickerConfig(await readFile(path, 'utf8'), { ...options, file: path });
}

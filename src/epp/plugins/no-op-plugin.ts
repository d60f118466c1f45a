/**
 * A plugin llm-d's configs declare for work the gateway already does itself (its data layer, its request
 * parsers): it loads, says once why it has nothing to do, and takes part in nothing.
 */
import type { Plugin } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

class NoOpPlugin implements Plugin {
  readonly type: string;
  readonly name: string;
  constructor(type: string, name: string) {
    this.type = type;
    this.name = name;
  }
}

/** A factory for `type`: any parameters are accepted and ignored, and the config's warning says `why`. */
export function noOpPluginFactory(type: string, why: string): PluginFactory {
  return (name, params, r) => {
    for (const key of Object.keys(params)) r.raw(key);
    r.warn(`has nothing to do here: ${why}${Object.keys(params).length > 0 ? '; its parameters are ignored' : ''}`);
    return new NoOpPlugin(type, name);
  };
}

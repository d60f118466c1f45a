/**
 * `agent-identity` (llm-d): finds the session id coding agents send on every request (Claude Code, OpenCode,
 * Codex) and publishes it as the `agent-identity` request attribute, for session affinity (a `session_id` source
 * `{attribute: agent-identity}`) and, with flow control, as the fairness ID of requests that name none.
 */
import type { DataProducer, SchedulingContext } from '../../framework/plugin.js';
import type { PluginFactory } from '../../framework/registry.js';
import { attributeKey } from '../../framework/request-attribute.js';
import { describeValue } from '../../framework/param-reader.js';

export const AGENT_IDENTITY_TYPE = 'agent-identity';
/** The attribute's key has no producer part: any plugin resolving an agent's identity may publish it. */
export const AGENT_IDENTITY_KEY = attributeKey('agent-identity');

/** llm-d's built-in headers, in order: Claude Code, OpenCode, Codex, Codex before 0.131. */
export const AGENT_SESSION_HEADERS: readonly string[] = ['x-claude-code-session-id', 'x-session-affinity', 'session-id', 'session_id'];

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export class AgentIdentity implements DataProducer {
  readonly type = AGENT_IDENTITY_TYPE;
  readonly name: string;
  readonly produces = AGENT_IDENTITY_KEY;
  /** `additionalSessionHeaders` first, then the built-in ones; lower-cased. */
  readonly headers: readonly string[];

  constructor(name: string = AGENT_IDENTITY_TYPE, additional: readonly string[] = []) {
    this.name = name;
    this.headers = [...additional.map((h) => h.toLowerCase()), ...AGENT_SESSION_HEADERS];
  }

  /** The first non-empty agent session header of a request; `get` takes lower-case names. */
  identify(get: (name: string) => string | undefined): string | undefined {
    for (const h of this.headers) {
      const v = get(h);
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  }

  produce(ctx: SchedulingContext): void {
    const id = this.identify((h) => ctx.request.header(h));
    if (id !== undefined) ctx.state.write(AGENT_IDENTITY_KEY, id);
  }
}

/** Parameters: `additionalSessionHeaders`, header names checked before the built-in ones. */
export const agentIdentityFactory: PluginFactory = (name, _p, r) => {
  const extra = r.list('additionalSessionHeaders', (v, path): string => {
    if (typeof v !== 'string' || !HEADER_NAME.test(v)) return r.fail(path, `must be an HTTP header name, got ${describeValue(v)}`);
    return v;
  });
  return new AgentIdentity(name, extra);
};

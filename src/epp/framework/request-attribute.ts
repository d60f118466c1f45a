/**
 * Request attributes, llm-d's per-request data keys (`DataKey{dataType, producerName}`): what a DataProducer
 * publishes about the request for other plugins (a session id, an agent's identity), kept in the CycleState.
 */

/**
 * The CycleState key of attribute `dataType` published by the plugin instance `producer`. llm-d compares both
 * parts, so `agent-identity` (no producer) and `SessionIDDataKey` from `session-id-producer` are different keys.
 */
export function attributeKey(dataType: string, producer = ''): string {
  return `attribute:${dataType}/${producer}`;
}

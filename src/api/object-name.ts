/** Whether a string can name a Kubernetes object (ConfigMap, Service, Secret): what an annotation or a ref may hold. */

// RFC 1123 subdomain, as the API server checks metadata.name for most kinds.
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * True for a name the API server could hold: lowercase letters, digits, '-' and '.', at most 253 characters.
 * Anything else names no object, and in a field selector (`metadata.name=a,b`) would be refused as a whole.
 */
export function isObjectName(name: string): boolean {
  return name.length <= 253 && SUBDOMAIN.test(name);
}

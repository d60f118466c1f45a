/** The request target in absolute-form (`GET http://host/path`, as a client sends through a proxy), made origin-form. */

/**
 * RFC 9112 §3.2.2: a server must accept absolute-form. The gateway routes on its path and query and forwards
 * those upstream; its authority stands for the Host header (§3.2.2: the target's host wins over Host). undefined
 * for anything other than an http(s) URL (`*`, authority-form), which then goes on as sent.
 */
export function originForm(target: string): { url: string; host: string } | undefined {
  if (!ABSOLUTE_HTTP.test(target)) return undefined;
  try {
    const u = new URL(target);
    return { url: `${u.pathname}${u.search}`, host: u.host };
  } catch {
    return undefined;
  }
}

const ABSOLUTE_HTTP = /^https?:\/\//i;

/** Closing a connection whose client may still be sending its body: the answer first, then a bounded wait for the client to stop. */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** How long a closing connection may still send (its bytes are read and dropped) before it is cut. */
export const LINGER_MS = 1000;

/**
 * Ends the gateway's side (the answer is written, then a FIN) but keeps reading, dropping what arrives, until
 * the client closes its side or LINGER_MS pass. Closing at once would reset a connection the client is still
 * writing to (unread bytes turn the close into a RST), and a client in the middle of its upload then gets
 * EPIPE or ECONNRESET instead of the answer (RFC 9112 §9.6, "lingering close"). A client that goes on sending
 * is cut when the time is up: it cannot hold the connection.
 */
export function lingeringClose(socket: Duplex): void {
  if (!socket.writableEnded) socket.end();
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
}

/**
 * For an answer sent with `connection: close` before the request's body is in (refused on its headers, or part
 * way): Node would close the socket as soon as the answer is flushed (`socket.destroySoon()`), resetting it while
 * the client still uploads; this socket closes with {@link lingeringClose} instead. Call before the answer ends.
 */
export function closeAfterAnswer(res: ServerResponse): void {
  const socket = res.socket as (Socket & { destroySoon?: () => void }) | null;
  if (socket) socket.destroySoon = () => lingeringClose(socket);
}

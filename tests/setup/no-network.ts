/**
 * Loaded in every vitest worker: any outbound connection to an address other than the
 * loopback fails loudly, so an adapter that accidentally calls a real cloud API breaks the run.
 */
import net from 'node:net';

const originalConnect = net.Socket.prototype.connect;

function isLoopback(host: unknown): boolean {
  if (host === undefined || host === null || host === '') return true; // unix socket / default localhost
  const h = String(host).toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || h.startsWith('127.') || h === '::ffff:127.0.0.1';
}

net.Socket.prototype.connect = function patchedConnect(this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  let host: unknown;
  let path: unknown;
  if (Array.isArray(first)) {
    const opts = first[0] as { host?: unknown; path?: unknown } | undefined;
    host = opts?.host;
    path = opts?.path;
  } else if (typeof first === 'object' && first !== null) {
    host = (first as { host?: unknown }).host;
    path = (first as { path?: unknown }).path;
  } else if (typeof first === 'number') {
    host = args[1];
  } else if (typeof first === 'string') {
    path = first;
  }
  if (!path && !isLoopback(host)) {
    const err = new Error(`Outbound connection to ${String(host)} blocked in tests: only 127.0.0.1 is allowed.`);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

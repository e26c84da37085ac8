// Loaded into every sidecar process the reliability scenarios start (node --import): any
// outbound connection to an address other than the loopback fails loudly, as in the vitest
// suite (tests/setup/no-network.ts), so a provider call can only reach our fake servers.
import net from 'node:net';

const originalConnect = net.Socket.prototype.connect;
const loopback = (h) => h === undefined || h === null || h === '' || /^(localhost|::1|\[::1\]|127\.|::ffff:127\.0\.0\.1)/i.test(String(h));

net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = args[0];
  let host;
  let path;
  if (Array.isArray(first)) { host = first[0]?.host; path = first[0]?.path; }
  else if (typeof first === 'object' && first !== null) { host = first.host; path = first.path; }
  else if (typeof first === 'number') host = args[1];
  else if (typeof first === 'string') path = first;
  if (!path && !loopback(host)) {
    const err = new Error(`Outbound connection to ${String(host)} blocked in the reliability run: only 127.0.0.1 is allowed.`);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return originalConnect.apply(this, args);
};

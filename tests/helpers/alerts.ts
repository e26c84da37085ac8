import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on 127.0.0.1 that keeps every message it accepts (raw text). */
export interface CaughtMail { from: string; to: string[]; raw: string; subject: string; header(name: string): string | null }

export async function startSmtp(opts: { user?: string; pass?: string } = {}) {
  const messages: CaughtMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    secure: false, disabledCommands: opts.user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'], authOptional: !opts.user, allowInsecureAuth: true, logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.pass) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
        const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? null;
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw, subject: header('Subject') ?? '', header });
        waiters.splice(0).forEach((w) => w());
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port, messages,
    url: opts.user ? `smtp://${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.pass ?? '')}@127.0.0.1:${port}` : `smtp://127.0.0.1:${port}`,
    /** Resolves once at least `n` messages have arrived. */
    async waitFor(n: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} mail(s), got ${messages.length}`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface CaughtHook { headers: http.IncomingHttpHeaders; body: string; json: Record<string, unknown> }

/** A webhook receiver: records requests; `mode` decides the answer (ok, 500, or hang until released). */
export async function startWebhook() {
  const received: CaughtHook[] = [];
  const held: http.ServerResponse[] = [];
  const waiters: Array<() => void> = [];
  const state = { mode: 'ok' as 'ok' | 'fail' | 'hang' };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> = {};
      try { json = JSON.parse(body); } catch { /* recorded as is */ }
      received.push({ headers: req.headers, body, json });
      waiters.splice(0).forEach((w) => w());
      if (state.mode === 'hang') { held.push(res); return; }
      res.writeHead(state.mode === 'ok' ? 200 : 500, { 'Content-Type': 'text/plain' }).end(state.mode === 'ok' ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-token-path`, received, state,
    async waitFor(n: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} webhook call(s), got ${received.length}`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    },
    /** Drop the held requests' connections (a receiver that never answered). */
    dropHeld() { for (const r of held.splice(0)) r.socket?.destroy(); },
    close: () => new Promise<void>((r) => { for (const h of held.splice(0)) h.socket?.destroy(); server.closeAllConnections(); server.close(() => r()); }),
  };
}

/**
 * The ways a message leaves the sidecar. Each send has a hard timeout, so a mail server or
 * webhook that hangs costs one alert worker slot for that long and never the engine. Errors
 * come back as sentences with every secret (SMTP password, webhook URL and secret) removed.
 */
import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AlertConfig, EmailChannelConfig, WebhookChannelConfig } from './config.js';
import { webhookBody, type AlertMessage } from './message.js';

export type ChannelName = 'email' | 'webhook';

export interface Channel {
  name: ChannelName;
  /** What the Settings screen may show: never a password, token or secret. */
  describe(): Record<string, unknown>;
  send(m: AlertMessage): Promise<void>;
  close(): void;
}

export class SendError extends Error {}

function scrub(text: string, secrets: Array<string | null | undefined>): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('[redacted]');
  return out.replace(/\s+/g, ' ').slice(0, 300);
}

export function hmacHex(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function webhookChannel(c: WebhookChannelConfig, timeoutMs: number): Channel {
  const u = new URL(c.url);
  const secrets = [c.url, c.secret, u.pathname.length > 1 ? u.pathname : null, u.password || null];
  return {
    name: 'webhook',
    // Chat webhooks carry their token in the path: show only where they go.
    describe: () => ({ channel: 'webhook', target: `${u.protocol}//${u.host}`, signed: c.secret !== null }),
    async send(m) {
      const body = webhookBody(m);
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'scheduled-snapshots-alerts', 'X-SS-Incident-Id': m.incidentId };
      if (c.secret) headers['X-SS-Signature'] = hmacHex(c.secret, body);
      let res: Response;
      try {
        res = await fetch(c.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      } catch (e) {
        const err = e as Error & { cause?: { code?: string } };
        if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new SendError(`The webhook did not answer within ${Math.round(timeoutMs / 1000)} s.`);
        throw new SendError(`The webhook could not be reached (${scrub(err.cause?.code ?? err.message, secrets)}).`);
      }
      // Read (and drop) the answer so the connection is released.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new SendError(`The webhook answered HTTP ${res.status}; expected 2xx.`);
    },
    close() { /* fetch keeps no state of ours */ },
  };
}

export function emailChannel(c: EmailChannelConfig, timeoutMs: number): Channel {
  const u = new URL(c.smtpUrl);
  const password = u.password ? decodeURIComponent(u.password) : null;
  const secrets = [c.smtpUrl, password, u.password || null];
  let transport: Transporter | null = null;
  const get = () => (transport ??= nodemailer.createTransport({
    url: c.smtpUrl,
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
    // Local mail relays often have no certificate for "localhost"; anything remote must.
    tls: { rejectUnauthorized: !['localhost', '127.0.0.1', '::1', '[::1]'].includes(u.hostname) },
  } as never));
  return {
    name: 'email',
    describe: () => ({ channel: 'email', server: `${u.protocol}//${u.host}`, from: c.from, to: c.to }),
    async send(m) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          get().sendMail({
            from: c.from, to: c.to, subject: m.subject, text: m.body,
            // The same Message-ID on a re-send lets mail clients drop the duplicate.
            messageId: `<ss-${m.incidentId}-${m.state}@scheduled-snapshots.invalid>`,
            headers: { 'X-SS-Incident-Id': m.incidentId, 'X-SS-State': m.state },
          }),
          new Promise((_, reject) => { timer = setTimeout(() => reject(new SendError(`The mail server did not accept the message within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs); }),
        ]);
      } catch (e) {
        if (e instanceof SendError) { transport?.close(); transport = null; throw e; }
        const err = e as Error & { code?: string; responseCode?: number };
        throw new SendError(`The mail server refused or failed (${scrub(`${err.code ?? ''} ${err.responseCode ?? ''} ${err.message}`.trim(), secrets)}).`);
      } finally {
        if (timer) clearTimeout(timer);
      }
    },
    close() { transport?.close(); transport = null; },
  };
}

export function channelsFor(config: AlertConfig): Channel[] {
  const out: Channel[] = [];
  if (config.email) out.push(emailChannel(config.email, config.sendTimeoutMs));
  if (config.webhook) out.push(webhookChannel(config.webhook, config.sendTimeoutMs));
  return out;
}

/**
 * Alert configuration (docs/alerts.md), read with the rest of the configuration at start.
 * A bad value stops start-up with one line naming the variable — and never echoing a URL or
 * secret, since SMTP URLs carry a password and chat webhooks carry their token in the path.
 */
import { ConfigError } from '../config.js';

export interface EmailChannelConfig { smtpUrl: string; from: string; to: string[] }
export interface WebhookChannelConfig { url: string; secret: string | null }

export interface AlertConfig {
  email: EmailChannelConfig | null;
  webhook: WebhookChannelConfig | null;
  /** Daily digest time (UTC) while problems last; null = no digest. */
  digest: { hour: number; minute: number } | null;
  /** N: a server is failing when its last N attempts failed. */
  failingAfter: number;
  /** wp-admin base URL for links in messages, e.g. https://panel.example.com/wp-admin. */
  adminUrl: string | null;
  /** How often health is evaluated (and incidents opened or resolved). */
  checkMs: number;
  /** How long one send may take before it counts as failed. */
  sendTimeoutMs: number;
  /** Attempts per message before it is given up (status failed, visible in the API). */
  maxAttempts: number;
}

type Env = Record<string, string | undefined>;

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/i;
export const isLoopbackHost = (hostname: string) => LOOPBACK.test(hostname);

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, 'must be a whole number');
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

function addressList(name: string, raw: string): string[] {
  const list = raw.split(',').map((x) => x.trim()).filter(Boolean);
  if (list.length === 0) throw new ConfigError(name, 'must name at least one email address, e.g. ops@example.com');
  for (const a of list) {
    const bare = /<([^>]+)>\s*$/.exec(a)?.[1] ?? a;
    if (!EMAIL.test(bare)) throw new ConfigError(name, `"${a.slice(0, 80)}" is not an email address; separate several with commas`);
  }
  return list;
}

function readEmail(env: Env): EmailChannelConfig | null {
  const smtpUrl = env.SS_SMTP_URL?.trim() || null;
  const to = env.SS_ALERT_EMAIL_TO?.trim() || null;
  const from = env.SS_ALERT_EMAIL_FROM?.trim() || null;
  if (!smtpUrl) {
    if (to) throw new ConfigError('SS_SMTP_URL', 'is required when SS_ALERT_EMAIL_TO is set (e.g. smtp://user:pass@mail.example.com:587)');
    return null;
  }
  let u: URL;
  try {
    u = new URL(smtpUrl);
  } catch {
    throw new ConfigError('SS_SMTP_URL', 'does not parse as a URL; use smtp://user:pass@host:587 or smtps://user:pass@host:465 (percent-encode special characters in the password)');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new ConfigError('SS_SMTP_URL', 'must start with smtp:// or smtps://');
  if (!u.hostname) throw new ConfigError('SS_SMTP_URL', 'must name the mail server, e.g. smtp://user:pass@mail.example.com:587');
  if (!to) throw new ConfigError('SS_ALERT_EMAIL_TO', 'is required when SS_SMTP_URL is set: whom should alerts go to?');
  const fromAddr = from ?? `Scheduled Snapshots <snapshots@${u.hostname.replace(/^\[|\]$/g, '') || 'localhost'}>`;
  addressList('SS_ALERT_EMAIL_FROM', fromAddr);
  return { smtpUrl, from: fromAddr, to: addressList('SS_ALERT_EMAIL_TO', to) };
}

function readWebhook(env: Env): WebhookChannelConfig | null {
  const url = env.SS_ALERT_WEBHOOK_URL?.trim() || null;
  const secret = env.SS_ALERT_WEBHOOK_SECRET || null;
  if (!url) {
    if (secret) throw new ConfigError('SS_ALERT_WEBHOOK_URL', 'is required when SS_ALERT_WEBHOOK_SECRET is set');
    return null;
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('SS_ALERT_WEBHOOK_URL', 'does not parse as a URL; use https://hooks.example.com/…');
  }
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new ConfigError('SS_ALERT_WEBHOOK_URL', 'must use https:// (plain http:// is allowed only to 127.0.0.1 or localhost)');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ConfigError('SS_ALERT_WEBHOOK_URL', 'must start with https://');
  if (secret !== null && secret.length < 16) throw new ConfigError('SS_ALERT_WEBHOOK_SECRET', `must be at least 16 characters (it has ${secret.length})`);
  return { url, secret };
}

function readDigest(env: Env): AlertConfig['digest'] {
  const raw = (env.SS_ALERT_DIGEST ?? 'off').trim().toLowerCase();
  if (raw === '' || raw === 'off' || raw === 'no' || raw === 'false') return null;
  if (raw === 'on' || raw === 'yes' || raw === 'true') return { hour: 8, minute: 0 };
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(raw);
  if (!m) throw new ConfigError('SS_ALERT_DIGEST', 'must be off, on (08:00 UTC) or a time of day in UTC such as 07:30');
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

function readAdminUrl(env: Env): string | null {
  const raw = env.SS_ADMIN_URL?.trim();
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError('SS_ADMIN_URL', 'must be the wp-admin address, e.g. https://panel.example.com/wp-admin');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ConfigError('SS_ADMIN_URL', 'must start with https:// or http://');
  return raw.replace(/\/+$/, '');
}

export function readAlertConfig(env: Env): Readonly<AlertConfig> {
  const email = readEmail(env);
  const webhook = readWebhook(env);
  return Object.freeze({
    email: email ? Object.freeze(email) : null,
    webhook: webhook ? Object.freeze(webhook) : null,
    digest: readDigest(env),
    failingAfter: int(env, 'SS_ALERT_FAILING_AFTER', 3, 1, 100),
    adminUrl: readAdminUrl(env),
    checkMs: int(env, 'SS_ALERT_CHECK_MS', 60_000, 50, 3_600_000),
    sendTimeoutMs: int(env, 'SS_ALERT_TIMEOUT_MS', 10_000, 100, 120_000),
    maxAttempts: int(env, 'SS_ALERT_MAX_ATTEMPTS', 10, 1, 100),
  });
}

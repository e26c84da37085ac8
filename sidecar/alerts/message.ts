/**
 * One alert message, fixed when it is queued: every channel renders it, and a re-send after a
 * crash sends exactly the same facts (and the same incident id, for receivers to deduplicate:
 * the pair incidentId + state identifies a message).
 */
import type { HealthState } from '../schema.js';

export interface AlertMessage {
  event: 'server.health' | 'health.digest' | 'alerts.test';
  incidentId: string;
  serverId: number | null;
  serverName: string | null;
  scheduleId: number | null;
  scheduleName: string | null;
  state: HealthState;
  since: string;
  reason: string;
  text: string;
  url: string | null;
  previousIncidentId?: string | null;
  subject: string;
  body: string;
}

const STATE_WORDS: Record<HealthState, string> = {
  ok: 'has recovered', warning: 'needs attention (warning)', failing: 'is failing', critical: 'is critical',
};

export interface IncidentFacts {
  id: number;
  serverId: number;
  serverName: string | null;
  scheduleId: number | null;
  scheduleName: string | null;
  state: HealthState;
  since: Date;
  reason: string | null;
  previousId?: number | null;
}

function lines(m: Omit<AlertMessage, 'subject' | 'body' | 'text'>, headline: string): string {
  return [
    headline,
    '',
    `Server:   ${m.serverName ?? `#${m.serverId}`} (#${m.serverId})`,
    `Schedule: ${m.scheduleName ?? '—'}`,
    `State:    ${m.state}`,
    `Since:    ${m.since}`,
    `Reason:   ${m.reason}`,
    ...(m.url ? [`Snapshots: ${m.url}`] : []),
    '',
    `Incident ${m.incidentId}. You get one message when a server enters a state and one when it recovers, never one per failed attempt.`,
  ].join('\n');
}

/** The message for an incident opening (or changing state) or recovering. */
export function incidentMessage(f: IncidentFacts, url: string | null): AlertMessage {
  const name = f.serverName ?? `Server #${f.serverId}`;
  const sinceIso = f.since.toISOString();
  const reason = f.reason ?? (f.state === 'ok' ? 'A good snapshot was taken again.' : 'No reason was recorded.');
  const base = {
    event: 'server.health' as const, incidentId: String(f.id), serverId: f.serverId, serverName: name,
    scheduleId: f.scheduleId, scheduleName: f.scheduleName, state: f.state, since: sinceIso, reason, url,
    ...(f.previousId ? { previousIncidentId: String(f.previousId) } : {}),
  };
  const schedule = f.scheduleName ? ` (schedule "${f.scheduleName}")` : '';
  const text = `${name}${schedule} ${STATE_WORDS[f.state]} since ${sinceIso}: ${reason}${url ? ` ${url}` : ''}`;
  const headline = f.state === 'ok' ? `${name} has recovered: its snapshots are fine again.` : `${name}${schedule} ${STATE_WORDS[f.state]}.`;
  return { ...base, text, subject: `[Scheduled Snapshots] ${name} ${STATE_WORDS[f.state]}`, body: lines(base, headline) };
}

/** The daily digest while problems last: one line per server. */
export function digestMessage(day: string, open: IncidentFacts[], urlOf: (serverId: number) => string | null, now: Date): AlertMessage {
  const worst = open.some((o) => o.state === 'critical') ? 'critical' : open.some((o) => o.state === 'failing') ? 'failing' : 'warning';
  const rows = open.map((o) => {
    const url = urlOf(o.serverId);
    return `- ${o.serverName ?? `Server #${o.serverId}`}: ${o.state} since ${o.since.toISOString()}${o.scheduleName ? ` (schedule "${o.scheduleName}")` : ''}: ${o.reason ?? ''}${url ? ` ${url}` : ''}`;
  });
  const headline = `${open.length} server${open.length === 1 ? '' : 's'} still need${open.length === 1 ? 's' : ''} attention`;
  return {
    event: 'health.digest', incidentId: `digest-${day}`, serverId: null, serverName: null, scheduleId: null, scheduleName: null,
    state: worst, since: now.toISOString(), reason: headline, url: null,
    text: `${headline}: ${open.map((o) => `${o.serverName ?? `#${o.serverId}`} (${o.state})`).join(', ')}`.slice(0, 3000),
    subject: `[Scheduled Snapshots] Daily digest: ${headline}`,
    body: [`${headline} (${day}):`, '', ...rows, '', 'This digest comes once a day while problems last.'].join('\n'),
  };
}

export function testMessage(now: Date, url: string | null): AlertMessage {
  const text = `Test message from Scheduled Snapshots at ${now.toISOString()}: this channel works.`;
  return {
    event: 'alerts.test', incidentId: `test-${now.getTime()}`, serverId: null, serverName: null, scheduleId: null, scheduleName: null,
    state: 'ok', since: now.toISOString(), reason: 'A test message sent from the Settings screen.', url, text,
    subject: '[Scheduled Snapshots] Test message',
    body: `${text}\n\nAlerts arrive like this one when a server's snapshots stop or fail, and again when they recover.`,
  };
}

/** The webhook body: the documented fields first (`text` lets chat endpoints show it as is). */
export function webhookBody(m: AlertMessage): string {
  return JSON.stringify({
    event: m.event, incidentId: m.incidentId, serverId: m.serverId, serverName: m.serverName, state: m.state,
    since: m.since, reason: m.reason, text: m.text,
    scheduleId: m.scheduleId, scheduleName: m.scheduleName, url: m.url,
    ...(m.previousIncidentId ? { previousIncidentId: m.previousIncidentId } : {}),
  });
}

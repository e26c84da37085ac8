import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../sidecar/config.js';

const good = { SS_DATABASE_URL: 'mysql://root@127.0.0.1:3306/wordpress', SS_SHARED_SECRET: 'x'.repeat(32) };

describe('alert configuration', () => {
  test('when nothing is set, then there are no channels, no digest and failing means three failures in a row', () => {
    expect(loadConfig(good).alerts).toMatchObject({ email: null, webhook: null, digest: null, failingAfter: 3, adminUrl: null });
  });

  test('when the channels are set, then they are read, with the digest time and admin URL', () => {
    const c = loadConfig({
      ...good, SS_SMTP_URL: 'smtps://u:p%40ss@mail.example.com:465', SS_ALERT_EMAIL_TO: 'ops@example.com, Admin <admin@example.com>',
      SS_ALERT_WEBHOOK_URL: 'https://hooks.example.com/T/B/x', SS_ALERT_WEBHOOK_SECRET: 's'.repeat(16), SS_ALERT_DIGEST: '07:30',
      SS_ADMIN_URL: 'https://panel.example.com/wp-admin/', SS_ALERT_FAILING_AFTER: '5',
    }).alerts;
    expect(c.email).toMatchObject({ to: ['ops@example.com', 'Admin <admin@example.com>'], from: 'Scheduled Snapshots <snapshots@mail.example.com>' });
    expect(c).toMatchObject({ digest: { hour: 7, minute: 30 }, adminUrl: 'https://panel.example.com/wp-admin', failingAfter: 5 });
    expect(loadConfig({ ...good, SS_ALERT_DIGEST: 'on' }).alerts.digest).toEqual({ hour: 8, minute: 0 });
    expect(loadConfig({ ...good, SS_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9000/hook' }).alerts.webhook).toMatchObject({ secret: null });
  });

  test.each([
    ['SS_SMTP_URL', { SS_SMTP_URL: 'smtp://user:hunter2-secret@', SS_ALERT_EMAIL_TO: 'a@b.c' }, /SS_SMTP_URL: (does not parse|must name)/],
    ['SS_SMTP_URL', { SS_SMTP_URL: 'http://user:hunter2-secret@mail.example.com', SS_ALERT_EMAIL_TO: 'a@b.c' }, /SS_SMTP_URL: must start with smtp:\/\//],
    ['SS_SMTP_URL', { SS_ALERT_EMAIL_TO: 'a@b.c' }, /SS_SMTP_URL: is required when SS_ALERT_EMAIL_TO is set/],
    ['SS_ALERT_EMAIL_TO', { SS_SMTP_URL: 'smtp://user:hunter2-secret@mail.example.com:587' }, /SS_ALERT_EMAIL_TO: is required/],
    ['SS_ALERT_EMAIL_TO', { SS_SMTP_URL: 'smtp://mail.example.com', SS_ALERT_EMAIL_TO: 'not-an-address' }, /SS_ALERT_EMAIL_TO: "not-an-address" is not an email address/],
    ['SS_ALERT_WEBHOOK_URL', { SS_ALERT_WEBHOOK_URL: 'http://hooks.example.com/hunter2-secret' }, /SS_ALERT_WEBHOOK_URL: must use https:\/\//],
    ['SS_ALERT_WEBHOOK_URL', { SS_ALERT_WEBHOOK_URL: 'hooks.example.com/hunter2-secret' }, /SS_ALERT_WEBHOOK_URL: does not parse/],
    ['SS_ALERT_WEBHOOK_SECRET', { SS_ALERT_WEBHOOK_URL: 'https://h.example.com/x', SS_ALERT_WEBHOOK_SECRET: 'hunter2-secret' }, /SS_ALERT_WEBHOOK_SECRET: must be at least 16 characters/],
    ['SS_ALERT_DIGEST', { SS_ALERT_DIGEST: 'hourly' }, /SS_ALERT_DIGEST: must be off, on/],
    ['SS_ADMIN_URL', { SS_ADMIN_URL: 'panel/wp-admin' }, /SS_ADMIN_URL: must be the wp-admin address/],
    ['SS_ALERT_FAILING_AFTER', { SS_ALERT_FAILING_AFTER: '0' }, /SS_ALERT_FAILING_AFTER: must be between 1 and 100/],
  ])('when %s is bad, then one line names it without echoing the secret', (_name, env, message) => {
    let err: unknown;
    try { loadConfig({ ...good, ...env }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('hunter2-secret');
  });
});

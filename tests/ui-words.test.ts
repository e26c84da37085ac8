import { describe, expect, test } from 'vitest';
import { foreignSentence } from '../sidecar/engine/ownership.js';
import type { Provider } from '../sidecar/providers/types.js';
import { decideRetention, type RetentionCandidate } from '../sidecar/retention.js';
import { eventDetail, lastError, retentionDetail, retentionReason } from '../sidecar/http/ui/words.js';
import { translatorFor } from '../sidecar/http/ui/i18n.js';

/**
 * The sidecar's English sentences (audit details, retention reasons, last errors) as a German
 * admin reads them. Reasons and ownership sentences come from the functions that write them, so
 * a changed sentence that the screens no longer recognise fails here.
 */
const de = translatorFor('de_DE');
const when = (d: Date) => `[${d.toISOString().slice(0, 16)}]`;
const day = (d: Date) => `[${d.toISOString().slice(0, 10)}]`;
const ENGLISH = /\b(?:kept|deleted|keeps|snapshot from|provider|Found|record|server|Never|Note|Scheduled|Manual|Host|created|deleting|schedule)\b/;

describe('retention reasons', () => {
  const now = new Date('2026-06-15T12:00:00Z');
  const hourly = (n: number): RetentionCandidate[] => Array.from({ length: n }, (_, i) => ({
    id: i + 1, status: 'available', origin: 'scheduled', createdAt: new Date(now.getTime() - i * 3600_000 - 60_000), keepForever: false, deleteNotBefore: null,
  }));

  test('when count rules keep and delete snapshots, then every reason the rules write reads German', () => {
    const decisions = [
      ...decideRetention(hourly(30), { keepLast: 2, keepHourly: 3, keepDaily: 2, keepWeekly: 1, keepMonthly: 1, keepYearly: 1 }, { timezone: 'UTC', now }),
      ...decideRetention(hourly(5), { keepLast: 2 }, { timezone: 'UTC', now }),
      ...decideRetention(hourly(5), { maxAgeDays: 30 }, { timezone: 'UTC', now }),
    ];
    const reasons = [...new Set(decisions.flatMap((d) => d.reasons))];
    expect(reasons).toEqual(expect.arrayContaining(['deleted: beyond keepLast 2', 'kept: last #1, hourly #1, daily #1, weekly #1, monthly #1, yearly #1']));
    for (const r of reasons) {
      const german = retentionReason(de, r);
      expect(german, r).not.toMatch(/\b(?:kept|deleted|last|hourly|daily|weekly|monthly|yearly|keepLast|beyond|within|rule)\b/);
    }
    expect(retentionReason(de, 'kept: last #1, hourly #1, daily #1, weekly #1, monthly #1, yearly #1'))
      .toBe('behalten: letzte Nr. 1, stündlich Nr. 1, täglich Nr. 1, wöchentlich Nr. 1, monatlich Nr. 1, jährlich Nr. 1');
    expect(retentionReason(de, 'deleted: not selected by any rule (keepLast 2, daily 7)')).toBe('gelöscht: von keiner Regel ausgewählt (letzte 2, täglich 7)');
  });

  test('when retention wrote why it queued a delete, then the detail is German with the schedule named', () => {
    expect(retentionDetail(de, 'deleted: beyond keepLast 2 (schedule "Nightly")')).toBe('gelöscht: jenseits der letzten 2 (Zeitplan „Nightly“)');
    expect(eventDetail(de, 'deleted: older than 30 days (schedule "A; B")', when, day)).toBe('gelöscht: älter als 30 Tage (Zeitplan „A; B“)');
  });
});

describe('the history of a snapshot', () => {
  const provider = { displayName: 'Hetzner Cloud' } as Provider;

  test('when the engine and the screens wrote their details, then each reads German, dates as the site prints them', () => {
    const cases: [string, string][] = [
      ['Scheduled slot 2026-11-30T02:42:00.000Z', 'Geplanter Zeitpunkt [2026-11-30T02:42]'],
      ['Provider id 1234567', 'ID beim Anbieter: 1234567'],
      ['Accepted by the provider', 'Vom Anbieter angenommen'],
      ['Manual snapshot', 'Manueller Snapshot'],
      ['Host backup tab: snap-9', 'Backup-Tab des Panels: snap-9'],
      ['Found snapshot 77 from an interrupted attempt', 'Snapshot 77 aus einem unterbrochenen Versuch gefunden'],
      ['Linode keeps only the latest snapshot; replaced by snapshot 12', 'Linode behält nur den neuesten Snapshot; ersetzt durch Snapshot 12'],
      ['Never delete automatically: on; Do not delete before 2031-12-30T22:59:59.999Z; Note changed', 'Nie automatisch löschen: an; Nicht löschen vor dem [2031-12-30]; Notiz geändert'],
      ['Never delete automatically: off; Do not delete before: cleared', 'Nie automatisch löschen: aus; Nicht löschen vor: entfernt'],
      ['Found at Hetzner Cloud, not in this list: 99 (no name) carries our marker but had no record. It is never deleted automatically; Trash deletes it at the provider, Delete Record forgets it.',
        'Bei Hetzner Cloud gefunden, nicht in dieser Liste: 99 (ohne Namen) trägt unsere Markierung, hatte aber keinen Eintrag. Er wird nie automatisch gelöscht; „Papierkorb“ löscht ihn beim Anbieter, „Datensatz löschen“ vergisst ihn.'],
      ['Provider "hetzner-eu" has no usable credentials in WPCloudDeploy\'s settings or the providers file (SS_PROVIDERS_FILE); add them and restart the sidecar.',
        'Der Anbieter „hetzner-eu“ hat keine nutzbaren Zugangsdaten in den Einstellungen von WPCloudDeploy oder in der Anbieterdatei (SS_PROVIDERS_FILE); trage sie ein und starte den Sidecar neu.'],
      ['A create that outlived its lease made a second snapshot 5; it was deleted at the provider (this record keeps 4).',
        'Ein Erstellen, das seine Sperrfrist überdauert hat, hat einen zweiten Snapshot 5 angelegt; er wurde beim Anbieter gelöscht (dieser Eintrag behält 4).'],
    ];
    for (const [english, german] of cases) expect(eventDetail(de, english, when, day), english).toBe(german);
  });

  test('when the engine refused to delete another server\'s snapshot, then its sentence reads German in the history and as the last error', () => {
    const made = foreignSentence(provider, '4711', { sourceInstanceId: 'srv-2' } as Parameters<typeof foreignSentence>[2], 'web-1');
    const unknown = foreignSentence(provider, '4712', { sourceInstanceId: null } as unknown as Parameters<typeof foreignSentence>[2], null);
    expect(eventDetail(de, made, when, day)).toBe('Snapshot 4711 bei Hetzner Cloud gehört zu einem anderen Server: Er wurde von Server srv-2 erstellt und trägt nicht unsere Markierung für web-1, deshalb wurde er nicht gelöscht. Entferne ihn mit „Datensatz löschen“ aus dieser Liste; lösche ihn im Dashboard des Anbieters nur, wenn du sicher bist, dass er nicht gebraucht wird.');
    expect(lastError(de, unknown)).toMatch(/^Snapshot 4712 bei Hetzner Cloud gehört zu einem anderen Server: Er sagt nicht, von welchem Server er stammt, und trägt nicht unsere Markierung für diesen Server,/);
  });

  test('when a detail is a provider\'s own words, then they stay as written and only the retry note is translated', () => {
    expect(eventDetail(de, 'Hetzner Cloud refused: server is locked (attempt 2 of 5; retrying)', when, day)).toBe('Hetzner Cloud refused: server is locked (Versuch 2 von 5; wird wiederholt)');
    expect(eventDetail(de, null, when, day)).toBe('');
    const en = translatorFor('en_US');
    for (const [english, shown] of [['Manual snapshot', 'Manual snapshot'], ['Note changed', 'Note changed'], ['deleted: beyond keepLast 3 (schedule "x")', 'deleted: beyond the last 3 (schedule “x”)']]) {
      expect(eventDetail(de, english!, when, day)).not.toMatch(ENGLISH);
      expect(eventDetail(en, english!, when, day)).toBe(shown);
    }
  });
});

import { describe, expect, test } from 'vitest';
import { formatPhpDate } from '../sidecar/http/ui/dates.js';
import { translatorFor } from '../sidecar/http/ui/i18n.js';

/** Dates as WordPress's date_i18n() prints them: PHP format characters, site timezone, translated names. */
describe('formatPhpDate', () => {
  const when = new Date('2026-03-29T00:30:05.000Z'); // 01:30 CET, the night the clocks go forward
  test('when the site uses WordPress\'s default formats, then the date reads as in English WordPress', () => {
    expect(formatPhpDate('F j, Y g:i a', when, 'Europe/Berlin', translatorFor('en_US'))).toBe('March 29, 2026 1:30 am');
    expect(formatPhpDate('D, d M Y H:i:s O', when, 'Europe/Berlin', translatorFor('en_US'))).toBe('Sun, 29 Mar 2026 01:30:05 +0100');
    expect(formatPhpDate('jS \\o\\f F', when, 'UTC', translatorFor('en_US'))).toBe('29th of March');
    expect(formatPhpDate('Y-m-d H:i P', when, '+05:30', translatorFor('en_US'))).toBe('2026-03-29 06:00 +05:30');
  });

  test('when the user is German, then month and day names come from the catalogue', () => {
    expect(formatPhpDate('l, j. F Y G:i', when, 'Europe/Berlin', translatorFor('de_DE'))).toBe('Sonntag, 29. März 2026 1:30');
    expect(formatPhpDate('D, j. M', new Date('2026-10-06T12:00:00Z'), 'UTC', translatorFor('de_DE'))).toBe('Di, 6. Okt.');
  });
});

describe('friendlyZone', () => {
  test('when the site uses a UTC offset, then screens name it as WordPress does', async () => {
    const { friendlyZone } = await import('../sidecar/http/ui/render.js');
    expect(friendlyZone('+00:00')).toBe('UTC');
    expect(friendlyZone('+02:00')).toBe('UTC+2');
    expect(friendlyZone('-05:30')).toBe('UTC-5:30');
    expect(friendlyZone('Europe/Berlin')).toBe('Europe/Berlin');
  });
});

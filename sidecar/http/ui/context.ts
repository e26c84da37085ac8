/**
 * What WordPress sends with every render: who and where the user is (locale, site timezone,
 * date and time formats), the Screen Options (per page, hidden columns), the nonces PHP made
 * for the forms on this screen, the screen's URLs and query arguments, and a notice left by
 * the last action. It travels as one JSON query argument `ctx`, so the request signature
 * covers it.
 */
import { z } from 'zod';
import { ApiError } from '../../errors.js';

const text = (max: number) => z.string().max(max);
const url = z.string().max(2000).regex(/^https?:\/\/[^\s"'<>]+$/, 'must be an http(s) URL');

export const renderContextSchema = z.object({
  locale: text(20).default('en_US'),
  timezone: text(64).default('UTC'),
  timezoneName: text(64).optional(),
  dateFormat: text(64).default('F j, Y'),
  timeFormat: text(64).default('g:i a'),
  perPage: z.number().int().min(1).max(200).default(20),
  hidden: z.array(text(40)).max(30).default([]),
  nonces: z.record(text(64), text(64)).default({}),
  args: z.record(text(40), text(400)).default({}),
  urls: z.object({
    schedules: url, snapshots: url, settings: url, adminPost: url, ajax: url.optional(), serverEdit: url.optional(),
  }),
  user: z.object({ id: z.number().int().min(0), name: text(250).default('') }).default({ id: 0, name: '' }),
  /** The outcome of the last action (?ss_message=code), with the service's sentence when there is one. */
  notice: z.object({
    code: text(60).regex(/^[a-z0-9-]+$/), count: z.number().int().min(0).default(0), detail: text(2000).default(''),
    results: z.array(z.object({ id: z.number().int(), outcome: text(40), message: text(1000).default('') })).max(200).optional(),
  }).nullable().optional(),
  /** Schedule form: what was typed and what was wrong, after a refused save. */
  form: z.object({ values: z.record(z.string(), z.unknown()), errors: z.record(z.string(), text(1000)) }).nullable().optional(),
  /** Settings: the address WordPress uses and whether wp-config.php fixes it. */
  settings: z.object({ sidecarUrl: text(2000), locked: z.boolean(), defaultUrl: text(200) }).optional(),
  /** Server screen: which server, and whether it is saved yet. */
  serverId: z.number().int().min(1).optional(),
  /** Snapshots list of a server manager who is not an administrator: only these servers (WPCD's per-server rule, applied by PHP). */
  servers: z.array(z.number().int().min(1)).max(1000).optional(),
  now: z.number().int().optional(),
});

export type RenderContext = z.infer<typeof renderContextSchema>;

export function parseRenderContext(raw: unknown): RenderContext {
  let json: unknown = raw;
  if (typeof raw === 'string') {
    try { json = JSON.parse(raw); } catch { json = undefined; }
  }
  const parsed = renderContextSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues[0];
    throw new ApiError(400, 'bad_render_context', `The screen's context (ctx) is missing or not valid${where ? ` at ${where.path.join('.') || 'the top'}: ${where.message}` : ''}.`);
  }
  return parsed.data;
}

/** url + query arguments, as WordPress's add_query_arg() would. */
export function withArgs(base: string, args: Record<string, string | number | null | undefined>): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(args)) {
    if (v === null || v === undefined || v === '') u.searchParams.delete(k);
    else u.searchParams.set(k, String(v));
  }
  return u.toString();
}

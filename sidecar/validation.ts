/**
 * zod issues → `{ field: sentence }` for 400 answers. Sentences name what is expected;
 * they never echo the submitted value back (it may be huge or hostile).
 */

import { z } from 'zod';
import { invalid } from './errors.js';

function sentence(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}`;
    case 'too_small':
      return issue.origin === 'string' ? (Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`)
        : issue.origin === 'array' ? `must have at least ${issue.minimum} item(s)` : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${issue.maximum} characters`
        : issue.origin === 'array' ? `must have at most ${issue.maximum} item(s)` : `must be at most ${issue.maximum}`;
    case 'invalid_format':
      return `must be a valid ${issue.format === 'regex' ? 'value' : issue.format}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map((v) => String(v)).join(', ')}`;
    default:
      return issue.message || 'is invalid';
  }
}

function article(t: string): string {
  if (t === 'int') return 'a whole number';
  if (t === 'object') return 'an object';
  if (t === 'array') return 'a list';
  if (t === 'boolean') return 'true or false';
  return `a ${t}`;
}

export function issuesToFields(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key].join('.');
        fields[path.slice(0, 100)] ??= 'is not a known field';
      }
      continue;
    }
    const path = issue.path.map(String).join('.') || 'body';
    fields[path.slice(0, 100)] ??= sentence(issue);
  }
  return fields;
}

/** Parse or throw a 400 naming the fields. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw invalid(issuesToFields(r.error));
  return r.data;
}

/** Route ids: positive integers that fit an unsigned BIGINT and a JS number. */
export const idParam = z.string().regex(/^[1-9]\d{0,14}$/).transform(Number);

export function parseId(raw: unknown, what: string): number {
  const r = idParam.safeParse(raw);
  if (!r.success) throw invalid({ [what]: 'must be a positive whole number' });
  return r.data;
}

/**
 * The closing table of the reliability run. Each scenario writes one JSON file with what it
 * counted (computed from the database and the fake providers, never typed in); the global
 * teardown prints them as one table. A scenario that crashed before writing shows as missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const WORK = path.join(ROOT, '.tmp', 'reliability');
export const RESULTS_DIR = path.join(WORK, 'results');
export const LOGS_DIR = path.join(WORK, 'logs');

export interface ScenarioResult {
  /** "1 several sidecars" — the number orders the table. */
  scenario: string;
  rounds: number;
  /** What "rounds" counts, e.g. "slots", "kills". */
  roundsOf: string;
  faults: number;
  lost: number;
  duplicated: number;
  orphaned: number;
  /** Scenario-specific findings, e.g. "split 212/190/198". */
  notes: string;
  passed: boolean;
  ms: number;
}

export function writeResult(r: ScenarioResult): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${r.scenario.split(' ')[0]}.json`);
  fs.writeFileSync(file, JSON.stringify(r, null, 2));
}

/** Called first thing by a scenario, so one that dies before its result shows as a failure. */
export function markStarted(scenario: string): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${scenario.split(' ')[0]}.started`), scenario);
}

export function readResults(): ScenarioResult[] {
  if (!fs.existsSync(RESULTS_DIR)) return [];
  const files = fs.readdirSync(RESULTS_DIR);
  const results = files.filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as ScenarioResult);
  for (const f of files.filter((x) => x.endsWith('.started'))) {
    const scenario = fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8');
    if (!results.some((r) => r.scenario === scenario)) {
      results.push({ scenario, rounds: 0, roundsOf: '-', faults: 0, lost: NaN, duplicated: NaN, orphaned: NaN, notes: 'no result: the scenario stopped before counting (see the test output)', passed: false, ms: 0 });
    }
  }
  return results;
}

export function renderTable(results: ScenarioResult[]): string {
  const rows = [...results];
  rows.sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', { numeric: true }));
  const head = ['scenario', 'rounds', 'faults injected', 'lost', 'duplicated', 'orphaned', 'result', 'time', 'notes'];
  const body = rows.map((r) => [
    r.scenario, `${r.rounds} ${r.roundsOf}`, String(r.faults), String(r.lost), String(r.duplicated), String(r.orphaned),
    r.passed ? 'pass' : 'FAIL', `${Math.round(r.ms / 1000)} s`, r.notes,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/**
 * Global setup of `npm run test:reliability`:
 *  1. builds the sidecar with tsc (the project's compiler options) into a private folder,
 *     .tmp/reliability/dist, so the processes under test run what `npm run build` makes
 *     without overwriting the dist/ a sidecar elsewhere on this machine may be running;
 *  2. gives the scenarios a MariaDB: SS_TEST_MYSQL_URL if set, else a private throwaway one;
 *  3. at the end prints the table (scenario, rounds, faults, lost, duplicated, orphaned).
 * Scenario 3 starts its own extra MariaDB, because it restarts it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { testServer } from '../../scripts/mariadb.js';
import { RESULTS_DIR, ROOT, WORK, readResults, renderTable } from './harness/results.js';
import { SCALE } from './harness/scale.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string;
    sidecarMain: string;
  }
}

export const SCENARIOS = [
  '1 several sidecars', '2 crashes', '3 database faults', '4 provider faults', '5 clock and calendar', '6 retention safety', '7 hostile input',
  '8 lease outlived', '9 health alerts', '10 provider truth', '11a restored backup', '11b foreign panel id', '11c one budget, three sidecars',
];

export default async function setup(project: TestProject) {
  const started = Date.now();
  fs.rmSync(RESULTS_DIR, { recursive: true, force: true });
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const outDir = path.join(WORK, 'dist');
  if (process.env.SS_REL_SKIP_BUILD !== '1' || !fs.existsSync(path.join(outDir, 'sidecar', 'main.js'))) {
    fs.rmSync(outDir, { recursive: true, force: true });
    // The project's compiler options, but only the sidecar and its migrations: what `npm run
    // build` makes of them, without depending on other folders the project tsconfig includes.
    const tsconfig = path.join(WORK, 'tsconfig.build.json');
    fs.writeFileSync(tsconfig, JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { outDir, rootDir: ROOT },
      include: [path.join(ROOT, 'sidecar/**/*.ts'), path.join(ROOT, 'migrations/**/*.ts')],
    }, null, 2));
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { cwd: ROOT, stdio: 'inherit' });
  }
  const { url, stop } = await testServer();
  project.provide('mysqlUrl', url);
  project.provide('sidecarMain', path.join(outDir, 'sidecar', 'main.js'));
  console.log(`reliability: ${SCALE.full ? 'FULL' : 'CI-sized'} run (SS_RELIABILITY=full for the full one); MariaDB ${url}`);

  return async () => {
    await stop();
    const results = readResults();
    console.log(`\nReliability (${SCALE.full ? 'full' : 'CI-sized'}), ${Math.round((Date.now() - started) / 1000)} s in all:\n`);
    console.log(renderTable(results));
    const failed = results.filter((r) => !r.passed).length;
    const missing = SCENARIOS.filter((s) => !results.some((r) => r.scenario === s));
    if (missing.length > 0) console.log(`\nNot run this time: ${missing.join(', ')}`);
    console.log(failed === 0 ? `\n${results.length} scenario(s) ran; every one held.` : `\n${failed} scenario(s) did not hold; logs in .tmp/reliability/logs`);
  };
}

/**
 * How big and how long each reliability scenario runs. The default is CI-sized (the whole run
 * stays under about six minutes on a shared 2-core machine); `SS_RELIABILITY=full` is the
 * release check. Every number can also be set on its own.
 */
const full = process.env.SS_RELIABILITY === 'full';

function num(name: string, ci: number, fullValue: number): number {
  const raw = process.env[name];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
    return n;
  }
  return full ? fullValue : ci;
}

export const SCALE = Object.freeze({
  full,
  /** Scenario 1: servers with a due slot, spread over three sidecar processes. */
  servers: num('SS_REL_SERVERS', 600, 2000),
  /** Scenario 2: SIGKILL rounds (each moment is covered at least once when rounds >= 5). */
  crashRounds: num('SS_REL_CRASH_ROUNDS', 10, 24),
  /** Scenario 3: MariaDB restarts under load, and the servers that load uses. */
  dbRestarts: num('SS_REL_DB_RESTARTS', 2, 5),
  dbServers: num('SS_REL_DB_SERVERS', 120, 400),
  /** Scenario 8: database outages while a create is still on its way to the provider. */
  leaseRounds: num('SS_REL_LEASE_ROUNDS', 3, 8),
  /** Scenario 4: servers per healthy provider next to the faulty ones. */
  providerServers: num('SS_REL_PROVIDER_SERVERS', 20, 60),
  /** Scenario 5: days stepped across each DST change (hour by hour). */
  dstDays: num('SS_REL_DST_DAYS', 2, 4),
  /** Scenario 6: fast-check runs per retention property. */
  retentionRuns: num('SS_REL_RETENTION_RUNS', 300, 1000),
  /** Scenario 7: fuzzed API requests. */
  fuzzRuns: num('SS_REL_FUZZ_RUNS', 1000, 5000),
  /** Upper bound for one scenario file, in ms. */
  scenarioTimeoutMs: num('SS_REL_TIMEOUT_MS', 240_000, 1_200_000),
});

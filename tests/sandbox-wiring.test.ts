import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Sidecar } from '../sidecar/sidecar.js';
import { addServer, createTestDatabase, type TestDatabase } from './helpers/db.js';
import { api, sidecarFor } from './helpers/sidecar.js';

/** The sandbox is a demo and test provider: a production sidecar carries neither its table nor its route. */
describe('sandbox wiring', () => {
  let t: TestDatabase;
  let sc: Sidecar | null = null;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => { await sc?.stop(0); sc = null; await t.drop(); });

  async function hasSandboxTable(): Promise<boolean> {
    const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ${`${t.prefix}ss_sandbox_snapshots`}`.execute(t.handle.db);
    return Number(r.rows[0]!.n) === 1;
  }

  test('when no sandbox provider is configured, then there is no sandbox table and its route is a 404', async () => {
    sc = await sidecarFor(t, { providers: { hetzner: { type: 'hetzner', token: 'not-used-in-this-test', apiUrl: 'http://127.0.0.1:9' } } });
    const serverId = await addServer(t, { provider: 'hetzner' });
    expect(await hasSandboxTable()).toBe(false);
    const res = await api(sc, 'post', '/api/v1/sandbox/snapshots', { serverId });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe('There is no POST /api/v1/sandbox/snapshots in this API.');
  });

  test('when a sandbox provider is configured, then its table exists and the host backup tab can take a snapshot', async () => {
    sc = await sidecarFor(t);
    const serverId = await addServer(t, {});
    expect(await hasSandboxTable()).toBe(true);
    const res = await api(sc, 'post', '/api/v1/sandbox/snapshots', { serverId });
    expect(res.status).toBe(201);
    expect(res.body.providerSnapshotId).toMatch(/^sbx-\d+$/);
  });
});

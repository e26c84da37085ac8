/**
 * What tests/e2e/run.sh started, passed in SS_E2E_* variables. Read once; a missing one
 * means the suite was started without run.sh, which is said in one sentence.
 */

import fs from 'node:fs';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: start the browser suite with tests/e2e/run.sh (it starts MariaDB, WordPress and the sidecar).`);
  }
  return value;
}

export interface ServerFixture { id: number; name: string; instanceId: string }
interface Fixtures { servers: ServerFixture[]; users: Array<{ id: number; login: string; role: string }> }

const fixtures = JSON.parse(fs.readFileSync(required('SS_E2E_FIXTURES'), 'utf8')) as Fixtures;

export const env = Object.freeze({
  baseUrl: required('SS_E2E_BASE_URL'),
  sidecarUrl: required('SS_E2E_SIDECAR_URL'),
  secret: required('SS_E2E_SECRET'),
  debugLog: required('SS_E2E_DEBUG_LOG'),
  artifacts: required('SS_E2E_ARTIFACTS'),
  /** run.sh's working directory: sidecar.log, wordpress.log, the WordPress copy. */
  work: required('SS_E2E_WORK'),
  admin: { login: 'admin', password: required('SS_E2E_ADMIN_PASSWORD') },
  editor: { login: 'e2e-editor', password: required('SS_E2E_EDITOR_PASSWORD') },
  subscriber: { login: 'e2e-subscriber', password: required('SS_E2E_SUBSCRIBER_PASSWORD') },
});

export function server(name: string): ServerFixture {
  const found = fixtures.servers.find((s) => s.name === name);
  if (!found) throw new Error(`No server "${name}" in the fixtures (${fixtures.servers.map((s) => s.name).join(', ')}).`);
  return found;
}

/** wp-admin addresses of our screens (they live under the host's Servers menu). */
export const urls = {
  login: '/wp-login.php',
  servers: '/wp-admin/edit.php?post_type=wpcd_app_server',
  server: (id: number) => `/wp-admin/post.php?post=${id}&action=edit`,
  schedules: '/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-schedules',
  snapshots: (filters: Record<string, string | number> = {}) => {
    const q = new URLSearchParams({ post_type: 'wpcd_app_server', page: 'ss-snapshots' });
    for (const [k, v] of Object.entries(filters)) q.set(k, String(v));
    return `/wp-admin/edit.php?${q.toString()}`;
  },
  settings: '/wp-admin/edit.php?post_type=wpcd_app_server&page=ss-settings',
  adminPost: '/wp-admin/admin-post.php',
};

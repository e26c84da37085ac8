/**
 * Global setup: gives every test file a real MariaDB server.
 *
 * If SS_TEST_MYSQL_URL names a server (mysql://root@127.0.0.1:3306), it is used. Otherwise
 * a private, throwaway MariaDB is started in a temporary directory (scripts/mariadb.ts) and
 * removed after the run. Each test file then creates its own database on it (tests/helpers/db.ts).
 */
import type { TestProject } from 'vitest/node';
import { testServer } from '../../scripts/mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await testServer();
  project.provide('mysqlUrl', server.url);
  return server.stop;
}

import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db.js';
import { migrateToLatest } from './migrate.js';

/** `npm run migrate`: bring our tables up to date and exit. */
try {
  const config = loadConfig();
  const handle = openDatabase(config.databaseUrl, config.tablePrefix, { connectionLimit: 2 });
  try {
    const applied = await migrateToLatest(handle.db, config.tablePrefix);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date.\n');
  } finally {
    await handle.close();
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? 'Configuration error' : 'Migration failed'}: ${(e as Error).message}\n`);
  process.exit(2);
}

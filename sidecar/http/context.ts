import type { Clock, DB } from '../db.js';
import type { AlertWorker } from '../alerts/worker.js';
import type { Engine } from '../engine/engine.js';
import type { Host } from '../host.js';
import type { Logger } from '../log.js';
import type { Provider } from '../providers/types.js';
import type { SandboxConfig } from '../providers/sandbox.js';
import type { ProviderSource } from '../wpcd/providers.js';

/** What every HTTP handler may use. Built once in app.ts / main.ts. */
export interface AppContext {
  db: DB;
  clock: Clock;
  log: Logger;
  host: Host;
  providers: ReadonlyMap<string, Provider>;
  providerConfigs: Readonly<Record<string, { type: string }>>;
  /** Why slugs without an adapter cannot run (missing credentials, not supported). */
  providerProblems?: ReadonlyMap<string, string>;
  /** Where each known provider's credentials come from (never the credentials). */
  providerSources?: ReadonlyMap<string, ProviderSource>;
  /** Whether WPCD's settings were found, and the NAME of the key source used (never the key). */
  wpcd?: { present: boolean; keySource: string | null; problem: string | null };
  engine: Engine;
  sharedSecret: string;
  /** How long TRASH waits for the provider before answering 202 (still deleting). */
  trashWaitMs?: number;
  /** Health alerts (their config and channels); absent in contexts built without them. */
  alerts?: AlertWorker;
}

export function sandboxConfigOf(ctx: AppContext, slug: string): SandboxConfig | null {
  const c = ctx.providerConfigs[slug];
  return c && c.type === 'sandbox' ? (c as unknown as SandboxConfig) : null;
}

/** Whether any provider is the sandbox: only then do its table and its route exist. */
export function sandboxConfigured(configs: Readonly<Record<string, { type: string }>>): boolean {
  return Object.values(configs).some((c) => c.type === 'sandbox');
}

/**
 * The Hetzner fake for the provider phases. It is test code, not part of the build, so the
 * benchmark transpiles `tests/fakes/hetzner.ts` on its own (types stripped) into its work
 * folder and imports that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** What the phases use of the fake. */
export interface FakeHetzner {
  url: string;
  addServer(id: number, name?: string): void;
  requests: Array<{ method: string; path: string; at: number }>;
  rateLimited(): number;
  images(): unknown[];
  close(): Promise<void>;
}

export async function loadFakeHetzner(root: string, work: string): Promise<{ startFakeHetzner(o: object): Promise<FakeHetzner> }> {
  const js = ts.transpileModule(fs.readFileSync(path.join(root, 'tests/fakes/hetzner.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 }, fileName: 'hetzner.ts',
  }).outputText;
  const file = path.join(work, 'fake-hetzner.mjs');
  fs.writeFileSync(file, js);
  return await import(pathToFileURL(file).href) as { startFakeHetzner(o: object): Promise<FakeHetzner> };
}

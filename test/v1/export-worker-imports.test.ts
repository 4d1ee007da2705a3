import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The export worker is a second V8 isolate: every module it loads is compiled and kept again in
// its heap (RxJS alone ~6 MiB, the protobuf code ~3 MiB). It must load only the walk and the
// database. Checked on the build it runs (dist/, made by the global setup).
const DIST = resolve(__dirname, '../../dist');

/** Every module the compiled `entry` loads at start (static imports, followed through dist). */
function staticImports(entry: string): { local: string[]; packages: string[]; loadsLater: string[] } {
  const local = new Set<string>();
  const packages = new Set<string>();
  const loadsLater = new Set<string>();
  const visit = (file: string): void => {
    if (local.has(file)) return;
    local.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else packages.add(specifier.replace(/^node:.*/, 'node:'));
    }
    if (/\bimport\s*\(|\brequire\s*\(/.test(source)) loadsLater.add(relative(DIST, file));
  };
  visit(entry);
  return { local: [...local].map((file) => relative(DIST, file)).sort(), packages: [...packages].sort(), loadsLater: [...loadsLater].sort() };
}

describe('export worker: what it loads', () => {
  const { local, packages, loadsLater } = staticImports(join(DIST, 'v1/export-worker.js'));

  it('loads LevelDB and node only: no RxJS, no protobuf code, no in-memory database', () => {
    expect(packages).toEqual(['classic-level', 'node:']);
    // Loading at run time would escape the check above; openDb loads memory-level only without a path.
    expect(loadsLater).toEqual(['db/level-db.js']);
  });

  it('loads the walk, not the store classes', () => {
    expect(local).toContain('v1/export-worker.js');
    expect(local).toContain('iavl/export-reader.js');
    expect(local).toContain('iavl/node-db.js');
    for (const heavy of ['v1/legacy-store.js', 'commitment/multi-tree.js', 'iavl/iavl-tree.js', 'iavl/exporter.js', 'core/batch-reader.js', 'v1/v1-layout.js']) {
      expect(local).not.toContain(heavy);
    }
    expect(local.filter((file) => file.startsWith('proto/'))).toEqual([]);
  });
});

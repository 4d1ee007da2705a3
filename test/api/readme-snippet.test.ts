import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { buildOnce, REPO } from '../cli/cli-support.js';

/**
 * The README's library example type-checks against the published declarations (weakness 22:
 * upstream's README drifted from its code). Its one free name, `changeset`, is declared; the event
 * types its comment lists must be event types too.
 */
beforeAll(() => buildOnce(), 240_000);

function readmeExample(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using the library'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README: no ts code block under "Using the library"');
  return match[1]!;
}

describe('the README library example', () => {
  it('type-checks against dist/index.d.ts, and names only real event types', () => {
    const example = readmeExample();
    const listed = /events\$\.subscribe\(.*\/\/ (.*)$/m.exec(example)![1]!.split(', ');
    expect(listed.length).toBeGreaterThan(3);
    const dir = mkdtempSync(join(tmpdir(), 'rxsm-readme-'));
    try {
      const file = join(dir, 'example.mts');
      const prelude = [
        `import type { Changeset, RootStoreEvent } from 'rx-store-migration';`,
        'declare const changeset: Changeset;',
        `export const listed: RootStoreEvent['type'][] = ${JSON.stringify(listed)};`,
      ];
      writeFileSync(file, `${prelude.join('\n')}\n${example}`);
      const program = ts.createProgram([file], {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(REPO, 'node_modules/@types')],
        paths: { 'rx-store-migration': [join(REPO, 'dist/index.d.ts')] },
      });
      const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

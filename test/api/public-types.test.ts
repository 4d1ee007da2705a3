import { join } from 'node:path';
import ts from 'typescript';
import { buildOnce, REPO } from '../cli/cli-support.js';

/**
 * The published declarations (`dist/index.d.ts`, as `npm run build` makes them) name no type of
 * ours that a user cannot import: every type a public signature mentions, at any depth, is
 * exported from the package root too.
 */
const DIST = join(REPO, 'dist');
const INDEX = join(DIST, 'index.d.ts');

beforeAll(() => buildOnce(), 240_000);

function unexportedTypes(): Map<string, string> {
  const program = ts.createProgram([INDEX], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const resolve = (symbol: ts.Symbol): ts.Symbol => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  const exports = checker.getExportsOfModule(moduleSymbol);
  const exported = new Set(exports.map(resolve));
  const found = new Map<string, string>();
  const seen = new Set<ts.Node>();
  const ours = (declaration: ts.Declaration) => declaration.getSourceFile().fileName.startsWith(DIST);

  const visitDeclaration = (declaration: ts.Node, path: string): void => {
    if (seen.has(declaration)) return;
    seen.add(declaration);
    const visit = (node: ts.Node): void => {
      const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isExpressionWithTypeArguments(node) ? node.expression : ts.isTypeQueryNode(node) ? node.exprName : undefined;
      const symbol = name && checker.getSymbolAtLocation(name);
      if (symbol) {
        const target = resolve(symbol);
        const declared = target.declarations?.[0];
        // A member of an exported enum or namespace is reachable through it.
        const parent = (target as { parent?: ts.Symbol }).parent;
        const member = parent !== undefined && exported.has(resolve(parent));
        if (declared && ours(declared) && !(target.flags & ts.SymbolFlags.TypeParameter) && !exported.has(target) && !member) {
          if (!found.has(target.name)) found.set(target.name, path);
          visitDeclaration(declared, `${path} > ${target.name}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    ts.forEachChild(declaration, visit);
  };
  for (const symbol of exports) {
    for (const declaration of resolve(symbol).declarations ?? []) visitDeclaration(declaration, symbol.name);
  }
  return found;
}

describe('the public declarations', () => {
  it('mention only types that the package root exports', () => {
    expect(Object.fromEntries(unexportedTypes())).toEqual({});
  });
});

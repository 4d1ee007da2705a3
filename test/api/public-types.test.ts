import { readFileSync } from 'node:fs';
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

/**
 * Exported classes whose source declares a constructor but whose declarations do not: a stripped
 * `@internal` constructor leaves an implicit public `new X()` that type-checks and then fails.
 */
function implicitConstructors(): string[] {
  const found: string[] = [];
  const program = ts.createProgram([INDEX], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const declaration of symbol.declarations ?? []) {
      if (!ts.isClassDeclaration(declaration) || declaration.members.some(ts.isConstructorDeclaration)) continue;
      const sourcePath = declaration.getSourceFile().fileName.replace(DIST, join(REPO, 'src')).replace(/\.d\.ts$/, '.ts');
      const source = ts.createSourceFile(sourcePath, readFileSync(sourcePath, 'utf8'), ts.ScriptTarget.ES2022);
      const original = source.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === symbol.name);
      if (original?.members.some(ts.isConstructorDeclaration)) found.push(symbol.name);
    }
  }
  return found;
}

describe('the public declarations', () => {
  it('mention only types that the package root exports', () => {
    expect(Object.fromEntries(unexportedTypes())).toEqual({});
  });

  it('keep every constructor a class declares (a private one for classes made inside the library)', () => {
    expect(implicitConstructors()).toEqual([]);
  });
});

import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join } from 'path';
import { PROJECT_ROOT } from '../../generator/paths';

/**
 * The layers ARCHITECTURE.md draws ("Layers: one import direction"), read from the sources' own
 * imports: value imports only (`import type` is erased and may point anywhere), relative ones
 * (packages are no layer of ours).
 */
function sources(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(PROJECT_ROOT, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** A module's value imports, as project paths (`generator/model/lab.ts`). */
export function valueImports(file: string, text: string): string[] {
  const imports: string[] = [];
  // `import { a } from './x'`, `import * as y from '../y'`, `export { b } from './z'`; not `import type`.
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)) {
    const base = join(dirname(file), m[1]);
    const target = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(join(PROJECT_ROOT, p)));
    if (target) imports.push(target);
  }
  return imports;
}

const files = [...sources('generator'), ...sources('harness')];
const graph = new Map(files.map((f) => [f, valueImports(f, readFileSync(join(PROJECT_ROOT, f), 'utf8'))]));

/** The modules on an import cycle (Tarjan's strongly connected components of more than one module, or one importing itself). */
function cycles(g: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (g.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

const crossing = (from: RegExp, to: RegExp) =>
  [...graph].flatMap(([f, imports]) => (from.test(f) ? imports.filter((t) => to.test(t)).map((t) => `${f} → ${t}`) : []));

describe('the import graph keeps the layers of ARCHITECTURE.md', () => {
  test('the reader of imports sees value imports and re-exports, not type imports', () => {
    const text = [
      "import { a } from '../model/lab';",
      "import type { B } from '../products/product';",
      "import {\n  c,\n  d,\n} from './lab';",
      "export { e } from '../patterns';",
    ].join('\n');
    expect(valueImports('generator/runtime/x.ts', text)).toEqual([
      'generator/model/lab.ts',
      'generator/runtime/lab.ts',
      'generator/patterns/index.ts',
    ]);
  });

  test('it reads the whole project (a reader that found nothing would pass every rule)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('generator/runtime/swarm.ts')).toEqual(expect.arrayContaining(['generator/runtime/lab.ts', 'generator/model/lab.ts']));
  });

  test('no cycle of value imports', () => {
    expect(cycles(graph)).toEqual([]);
    // The finder finds one where there is one.
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
  });

  test('generator/ never imports harness/; runtime never imports render; model imports nothing from products', () => {
    expect(crossing(/^generator\//, /^harness\//)).toEqual([]);
    expect(crossing(/^generator\/runtime\//, /^generator\/render\//)).toEqual([]);
    expect(crossing(/^generator\/model\//, /^generator\/products\//)).toEqual([]);
  });
});

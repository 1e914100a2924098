import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sharedSchema } from '../common/sharedSchema.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { workflowBundle } from './helpers/temporal.js';

interface ModuleRecord {
  exports: Record<string, unknown>;
}

/**
 * The bundle loaded as the SDK's reusable V8 context loads it: modules required before the first
 * workflow (the bundle's own start and its preloads) go to a shared cache, later ones to the cache
 * of the workflow being created, which starts empty for each workflow.
 */
async function loadBundle() {
  const { code } = await workflowBundle();
  const context = vm.createContext({ console, TextEncoder, TextDecoder });
  const shared = new Map<string | symbol, ModuleRecord>();
  let perWorkflow: Map<string | symbol, ModuleRecord> | undefined;
  const cache = new Proxy(
    {},
    {
      get: (_, id) => shared.get(id) ?? perWorkflow?.get(id),
      set: (_, id, record: ModuleRecord) => {
        (perWorkflow ?? shared).set(id, record);
        return true;
      },
    },
  );
  Object.defineProperty(context, '__webpack_module_cache__', { value: cache });
  vm.runInContext(code, context);
  vm.runInContext('__TEMPORAL__.preloadModules?.()', context);
  return {
    shared,
    /** Creates one workflow's modules; returns its module cache. */
    newWorkflow(): Map<string | symbol, ModuleRecord> {
      perWorkflow = new Map();
      vm.runInContext('__TEMPORAL__.importWorkflows()', context);
      return perWorkflow;
    },
  };
}

describe('the workflow bundle', () => {
  it('loads zod and builds the schemas of common/ once per workflow thread, not once per workflow', async () => {
    const bundle = await loadBundle();
    expect([...bundle.shared.keys()]).toContain('./common/sharedSchema.ts');
    expect([...bundle.shared.keys()].filter((id) => String(id).includes('/node_modules/zod/')).length).toBeGreaterThan(0);
    const first = bundle.newWorkflow();
    const second = bundle.newWorkflow();
    for (const modules of [first, second]) {
      expect([...modules.keys()].filter((id) => String(id).includes('/node_modules/zod/'))).toEqual([]);
      expect(modules.has('./common/schemas.ts')).toBe(true);
    }
    // Each workflow runs the schema modules again, and gets the schemas the first one built.
    const schemasOf = (modules: Map<string | symbol, ModuleRecord>, id: string) => modules.get(id)!.exports;
    expect(schemasOf(second, './common/schemas.ts').researchRunInputSchema).toBe(schemasOf(first, './common/schemas.ts').researchRunInputSchema);
    expect(schemasOf(second, './common/reviews.ts').reviewInputSchema).toBe(schemasOf(first, './common/reviews.ts').reviewInputSchema);
  });
});

describe('sharedSchema', () => {
  it('builds a schema once per key and refuses a builder that makes something else', () => {
    let builds = 0;
    const make = () => sharedSchema('test.counted', () => (builds++, z.object({ n: z.number() })));
    expect(make()).toBe(make());
    expect(builds).toBe(1);
    expect(() => sharedSchema('test.notASchema', () => ({ parse: () => 1 }))).toThrow(/not a zod schema/);
  });

  it('every module-level schema of common/ is built through it (one built per workflow would cost each workflow again)', () => {
    const dir = path.join(PROJECT_ROOT, 'common');
    const unshared = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        readFileSync(path.join(dir, f), 'utf8')
          .split('\n')
          .filter((line) => /^(export )?const \w+(: [^=]+)? = z\b/.test(line))
          .map((line) => `${f}: ${line.trim()}`),
      );
    expect(unshared).toEqual([]);
  });
});

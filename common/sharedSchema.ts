/**
 * Schemas built once per workflow thread instead of once per workflow.
 *
 * The workflow worker re-runs every module of the bundle for each new workflow, and building the
 * zod schemas of common/ was most of that (about 11 ms per workflow, 600 workflows in a 201-item
 * sweep). The worker preloads zod and this module (PRELOADED_WORKFLOW_MODULES in workers/createWorkers.ts), so the map below
 * outlives a workflow: the first workflow to load a schema module builds its schemas, later ones
 * take the same objects. That is safe because a schema holds no workflow state and nothing
 * mutates one (zod's own lazy caches inside a schema are the same for every input). Outside a
 * workflow each module runs once anyway, and this is a plain builder call.
 *
 * Keys are `<module>.<name>`; a key names one schema for the whole program. zod is imported
 * here, not only in the schema modules, so that preloading this module loads zod once too (a bare
 * preload of 'zod' is dropped by webpack: the package declares no side effects).
 */
import { z } from 'zod';

// zod sets its global defaults (the English messages, its memoizer) when the first schema is built
// and the first error made. Done here, while the worker preloads this module: it then freezes the
// preloaded modules, zod's global config with them, and a later first write would fail.
z.object({ warm: z.string() }).safeParse({ warm: 1 });

const built = new Map<string, unknown>();

export function sharedSchema<T>(key: string, build: () => T): T {
  if (built.has(key)) return built.get(key) as T;
  const schema = build();
  if (!(schema instanceof z.ZodType)) throw new TypeError(`sharedSchema('${key}') built something that is not a zod schema`);
  built.set(key, schema);
  return schema;
}

/** A benchmark's tasks in the store (`<benchId>/tasks/<name>.md`): by a worker, or by the CLI when the workers may not have them. */
import type { ArtifactRef } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';

export async function storeTaskTexts(store: ArtifactStore, benchId: string, tasks: Array<{ name: string; content: string }>): Promise<Array<{ name: string; ref: ArtifactRef }>> {
  const stored = [];
  for (const task of tasks) stored.push({ name: task.name, ref: await store.put(benchId, `tasks/${task.name}.md`, task.content) });
  return stored;
}

/** Artifact-store activities the research workflow calls directly (no LLM involved). */
import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef } from '../common/schemas.js';
import { ArtifactIntegrityError, type ArtifactStore } from './artifacts.js';

export function createArtifactActivities({ store }: { store: ArtifactStore }) {
  return {
    /** The run's task text into the store as `task.md` (the first thing a run does; a retry writes the same object). */
    async storeTaskText(input: { runId: string; text: string }): Promise<ArtifactRef> {
      return store.put(input.runId, 'task.md', input.text);
    },
    /** Readable copies of other runs' artifacts in `runId`'s folder (a resumed run's reused stages). */
    async copyArtifactsToRun(input: { runId: string; refs: ArtifactRef[] }): Promise<ArtifactRef[]> {
      const copies: ArtifactRef[] = [];
      for (const ref of input.refs) {
        try {
          copies.push(await store.copyToRun(input.runId, ref));
        } catch (err) {
          // Missing or corrupt content will not heal by retrying.
          if (err instanceof ArtifactIntegrityError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
            throw ApplicationFailure.nonRetryable(`cannot copy ${ref.path} into run ${input.runId}: ${(err as Error).message}`, 'InvalidInput');
          }
          throw err;
        }
      }
      return copies;
    },
  };
}

export type ArtifactActivities = ReturnType<typeof createArtifactActivities>;

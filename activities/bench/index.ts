/**
 * Benchmark preparation, on the research worker: resolve the task set where the tasks are, put
 * each task's text into the artifact store once (runs read it from there, so the CLI never
 * writes into the workers' store), and for judge-only runs find the outputs to review.
 */
import { ApplicationFailure } from '@temporalio/common';
import { benchItemKey, type BenchMode, type PreparedBench } from '../../common/benchmark.js';
import type { ReviewKind } from '../../common/reviews.js';
import type { ArtifactStore } from '../artifacts.js';
import { TaskError } from '../tasks.js';
import { selectTasks } from '../taskSets.js';
import { storeTaskTexts } from './taskTexts.js';
import { selectCompetitions } from './competitions.js';
import { findOutputs, OutputsError } from './outputs.js';
import path from 'node:path';
import type { ArtifactRef } from '../../common/schemas.js';
import { uploadsCacheDir } from '../config.js';
import { materializeUpload, UploadError } from '../uploads.js';

export interface PrepareBenchmarkInput {
  benchId: string;
  tasks: string;
  mode: BenchMode;
  agents: string[];
  reviews: ReviewKind[];
  outputs?: string;
  /** The outputs folder uploaded through the store by the CLI; `outputs` then only names it. */
  outputsUpload?: ArtifactRef;
  /** The tasks the CLI resolved and stored: used as they are, not resolved again here. */
  storedTasks?: Array<{ name: string; ref: ArtifactRef }>;
}

export function createBenchActivities({ store }: { store: ArtifactStore }) {
  return {
    async prepareBenchmark(input: PrepareBenchmarkInput): Promise<PreparedBench> {
      const stored = input.storedTasks && input.mode !== 'competition' ? input.storedTasks : await storeTaskSet(store, input);
      if (input.mode !== 'judge-only') return { tasks: stored, agents: input.agents, missing: [] };

      let outputs;
      let uploadRoot: string | undefined;
      try {
        uploadRoot = input.outputsUpload ? await materializeUpload(store, input.outputsUpload, uploadsCacheDir()) : undefined;
        outputs = await findOutputs(uploadRoot ?? input.outputs ?? '', input.reviews);
      } catch (err) {
        if (err instanceof OutputsError || err instanceof UploadError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        throw err;
      }
      const missing: string[] = [];
      for (const task of stored) {
        for (const agent of outputs.agents) if (!(await outputs.has(task.name, agent))) missing.push(benchItemKey(task.name, agent));
      }
      if (missing.length === stored.length * outputs.agents.length) {
        throw ApplicationFailure.nonRetryable(`no outputs to judge: none of the ${stored.length} selected task(s) has outputs in ${input.outputs}`, 'InvalidInput');
      }
      // With an upload, items name their folders inside it: each review's worker rebuilds the upload itself.
      const outputsRoot = uploadRoot ? path.relative(uploadRoot, outputs.root) || '.' : outputs.root;
      return { tasks: stored, agents: outputs.agents, layout: outputs.layout, outputsRoot, ...(input.outputsUpload ? { outputsUpload: input.outputsUpload } : {}), missing };
    },
  };
}

export type BenchActivities = ReturnType<typeof createBenchActivities>;

/** Resolves the task set on this worker and stores each task's text under the benchmark. */
async function storeTaskSet(store: ArtifactStore, input: PrepareBenchmarkInput): Promise<Array<{ name: string; ref: ArtifactRef }>> {
  let tasks;
  try {
    tasks = input.mode === 'competition' ? await selectCompetitions(input.tasks) : await selectTasks(input.tasks);
  } catch (err) {
    // A task set that matches nothing, or a bad task file, will not heal by retrying.
    if (err instanceof TaskError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
    throw err;
  }
  // Competition runs store their own task text when they set up their workspace; this copy is the benchmark's record.
  return storeTaskTexts(store, input.benchId, tasks);
}

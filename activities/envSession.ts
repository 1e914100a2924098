/**
 * The environment session's own activity: each step's record goes to the artifact store as
 * `runs/<sessionId>/env/steps/NNN.json`, where `lab export` reads trajectories from.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { stepRecordName, type EnvStepRecord } from '../common/envSession.js';
import { isValidRunId } from '../common/runIds.js';
import type { ArtifactRef } from '../common/schemas.js';
import type { ArtifactStore } from './artifacts.js';

export function createEnvSessionActivities({ store }: { store: ArtifactStore }) {
  return {
    async recordEnvStep(input: { record: EnvStepRecord }): Promise<ArtifactRef> {
      const { record } = input;
      if (!isValidRunId(record.session) || !Number.isInteger(record.step) || record.step < 0) {
        throw ApplicationFailure.nonRetryable(`invalid step record: session ${JSON.stringify(record.session)}, step ${record.step}`, 'InvalidInput');
      }
      const observationSha256 = createHash('sha256').update(JSON.stringify(record.observation)).digest('hex');
      // Same content on a retried attempt: the put is idempotent.
      return store.put(record.session, stepRecordName(record.step), `${JSON.stringify({ ...record, observationSha256 }, null, 2)}\n`, 'application/json');
    },
  };
}

export type EnvSessionActivities = ReturnType<typeof createEnvSessionActivities>;

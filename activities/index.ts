/** Builds every activity with its dependencies; workers register the result. */
import path from 'node:path';
import { ArtifactStore } from './artifacts.js';
import { artifactRoot, labHome } from './config.js';
import { LlmGateway } from './llm/gateway.js';
import { createStageActivities } from './stages/index.js';

export interface ActivityDeps {
  store: ArtifactStore;
  llm: LlmGateway;
}

export function defaultActivityDeps(): ActivityDeps {
  return {
    store: new ArtifactStore(artifactRoot()),
    llm: new LlmGateway({ cacheDir: path.join(labHome(), 'llm-cache') }),
  };
}

export function createActivities(deps: ActivityDeps = defaultActivityDeps()) {
  return { ...createStageActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;

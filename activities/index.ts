/** Builds every activity with its dependencies; workers register the result. */
import { ArtifactStore } from './artifacts.js';
import { createArtifactActivities } from './artifactActivities.js';
import { createEnvironmentActivities } from './environment/index.js';
import { artifactRoot, llmCacheDir } from './config.js';
import { LlmGateway } from './llm/gateway.js';
import { createLiteratureActivities } from './literature/index.js';
import { createStageActivities } from './stages/index.js';

export interface ActivityDeps {
  store: ArtifactStore;
  llm: LlmGateway;
}

export function defaultActivityDeps(): ActivityDeps {
  return {
    store: new ArtifactStore(artifactRoot()),
    llm: new LlmGateway({ cacheDir: llmCacheDir() }),
  };
}

export function createActivities(deps: ActivityDeps = defaultActivityDeps()) {
  return { ...createStageActivities(deps), ...createArtifactActivities(deps), ...createEnvironmentActivities(deps), ...createLiteratureActivities() };
}

export type Activities = ReturnType<typeof createActivities>;

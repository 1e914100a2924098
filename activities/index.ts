/** Builds every activity with its dependencies; workers register the result. */
import { type ArtifactStore } from './artifacts.js';
import { openArtifactStore } from './store/open.js';
import { LocalArtifactStore } from './store/localStore.js';
import { folderCallCache, storeCallCache } from './llm/callCache.js';
import { createArtifactActivities } from './artifactActivities.js';
import { createBenchActivities } from './bench/index.js';
import { createCompetitionActivities } from './competition/index.js';
import { createCompetitionWriteupActivities } from './competitionWriteup.js';
import { createEnvironmentActivities } from './environment/index.js';
import { createEnvSessionActivities } from './envSession.js';
import { llmCacheDir } from './config.js';
import { LlmGateway } from './llm/gateway.js';
import { createJudgeActivities } from './judge/index.js';
import { createLiteratureActivities, type LiteratureDeps } from './literature/index.js';
import { createLiteratureRunActivities } from './literature/runActivities.js';
import { createExperimentAgentActivities } from './experiment/agent.js';
import { createResultsActivities } from './experiment/results.js';
import { createCodingAgentActivities } from './experiment/cliAgent.js';
import { createLlmPreflightActivities } from './preflight/llm.js';
import { createStageActivities } from './stages/index.js';
import { createSandboxHostActivities } from './sandbox/host.js';
import { createLiteratureStageActivities } from './stages/literature.js';

export interface ActivityDeps {
  store: ArtifactStore;
  llm: LlmGateway;
  /** Literature backends' settings and answer cache (default: the worker's environment, LAB_HOME). */
  literature?: LiteratureDeps;
}

export function defaultActivityDeps(): ActivityDeps {
  const store = openArtifactStore();
  // With a local store, finished calls stay in this host's folder; with a shared store they go there,
  // so a retry that lands on another LLM worker finds the call the first worker paid for.
  const cache = store instanceof LocalArtifactStore ? folderCallCache(llmCacheDir()) : storeCallCache(store);
  return { store, llm: new LlmGateway({ cache }) };
}

export function createActivities(deps: ActivityDeps = defaultActivityDeps()) {
  const literature = createLiteratureActivities(deps.literature);
  return {
    ...createStageActivities(deps),
    ...createArtifactActivities(deps),
    ...createBenchActivities(deps),
    ...createEnvironmentActivities(deps),
    ...createCompetitionActivities(deps),
    ...createCompetitionWriteupActivities(deps),
    ...createEnvSessionActivities(deps),
    ...createSandboxHostActivities(),
    ...literature,
    ...createLiteratureRunActivities({ store: deps.store, literature }),
    ...createLiteratureStageActivities(deps),
    ...createExperimentAgentActivities(deps),
    ...createResultsActivities(deps),
    ...createCodingAgentActivities(deps),
    ...createJudgeActivities(deps),
    ...createLlmPreflightActivities(deps.llm.env),
  };
}

export type Activities = ReturnType<typeof createActivities>;

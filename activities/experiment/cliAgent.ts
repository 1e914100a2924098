/**
 * The optional experiment backend (off by default): an external coding-agent CLI (e.g. Claude
 * Code, as MLR-Bench runs it) started once in the run's sandbox workspace instead of the step
 * loop. The activity writes the instructions to `PROMPT.md`, checks the CLI exists inside the
 * sandbox, runs the command through the same sandbox backend as `envStep` (limits, heartbeats,
 * the tree killed on cancellation), stores the full output and returns an observation.
 *
 * The CLI needs its provider's API and key, so isolation is weakened only as far as the worker
 * allows, loudly: `LAB_CODING_AGENT_NETWORK=1` shares the host's network with the sandbox, and
 * only the variables named in `LAB_CODING_AGENT_ENV` (comma-separated) are passed in.
 * The command itself comes from the run's input (visible in history), never from the worker.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { sandboxLimitsSchema, type Observation, type SandboxLimits } from '../../common/environment.js';
import type { ArtifactRef } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import { diffSnapshots, ensureWorkspace, snapshotDirectory, WorkspacePathError } from '../environment/workspace.js';
import { formatBytes } from '../environment/fileActions.js';
import { runObservation } from '../environment/index.js';
import { isCompetitionRun } from '../competition/paths.js';
import { withHeartbeat } from '../heartbeat.js';
import { commandEnvironment } from '../sandbox/commandEnv.js';
import { ENV_NAME, sandboxBackendFromEnv, SandboxConfigError, type SandboxBackend } from '../sandbox/index.js';

export interface CodingAgentCliInput {
  runId: string;
  /** Run with `sh -c` in the workspace, e.g. `claude -p "$(cat PROMPT.md)" --dangerously-skip-permissions`. */
  command: string;
  task: ArtifactRef;
  /** idea, related work, proposal: what the agent implements. */
  inputs: Record<string, ArtifactRef>;
  revision?: { feedback: string; previous: ArtifactRef; number: number };
  /** The command's sandbox limits (over `sandboxLimitsSchema`'s defaults). */
  limits?: Partial<SandboxLimits>;
}

export interface CodingAgentCliResult {
  /** The command as an env action, for the transcript and `results/log.txt`. */
  action: { action: 'run'; command: string };
  observation: Observation;
  /** The instructions as stored (`runs/<runId>/experiment/PROMPT.md`). */
  prompt: ArtifactRef;
}

export interface CodingAgentDeps {
  store: ArtifactStore;
  /** Default: the backend `LAB_SANDBOX` names. */
  backend?: SandboxBackend;
  /** Where LAB_CODING_AGENT_NETWORK, LAB_CODING_AGENT_ENV and the named variables are read (default: the worker's). */
  env?: NodeJS.ProcessEnv;
}

export const PROMPT_FILE = 'PROMPT.md';

/** Variables the sandbox sets itself: LAB_CODING_AGENT_ENV may not replace them. */
const RESERVED = new Set([...Object.keys(commandEnvironment({ home: '/', cpus: 1, tmp: '/tmp' })), 'VIRTUAL_ENV', 'LAB_SANDBOX_MARKER']);

/** The coding agent's instructions: the same rules as the step loop's (prompts.ts), for one autonomous session. */
export function codingAgentInstructions(sections: string[], network: boolean): string {
  return [
    '# Experiment instructions',
    '',
    'You are a careful machine-learning engineer running a real experiment. Nothing you do not run is real: never write ' +
      'result numbers by hand, never fake or synthesise results, and report failures as failures.',
    '',
    'You work in this folder (your current directory, the only writable place) with Python 3 and numpy, pandas, scikit-learn, ' +
      'scipy and matplotlib installed, and no pip. ' +
      (network
        ? 'The network is open only so that you can reach your own model provider: do not download data or packages; '
        : 'There is no network: ') +
      "use data that needs no download (scikit-learn's bundled data sets such as load_iris, load_digits, load_wine, " +
      'load_breast_cancer, or data you generate with a fixed seed).',
    '',
    'Goal: implement the proposal below as a small, honest experiment with at least one baseline, and run it. The code must write ' +
      'its measured results into the folder `results/`: metrics as CSV or JSON files (one row per method/setting), and figures as ' +
      'PNG files with labelled axes and a title (matplotlib with the Agg backend). Keep runs short (minutes, not hours). ' +
      'Do not write or edit files in `results/` by hand: only your code writes them. When you are done, stop; say what was run ' +
      'and what failed, and state no numbers the code did not print or write.',
    '',
    ...sections,
    '',
  ].join('\n');
}

export function createCodingAgentActivities({ store, backend = sandboxBackendFromEnv(), env = process.env }: CodingAgentDeps) {
  return {
    async runCodingAgentCli(input: CodingAgentCliInput): Promise<CodingAgentCliResult> {
      const ctx = Context.current();
      const workspace = await ensureWorkspace(input.runId).catch((err) => {
        throw err instanceof WorkspacePathError ? ApplicationFailure.nonRetryable(err.message, 'InvalidInput') : err;
      });
      const parsedLimits = sandboxLimitsSchema.safeParse(input.limits ?? {});
      if (!parsedLimits.success) throw ApplicationFailure.nonRetryable(`invalid sandbox limits: ${parsedLimits.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidInput');
      const limits = parsedLimits.data;
      const { shareNetwork, extraEnv, warning } = codingAgentIsolation(env);
      if (warning) log.warn(warning);

      // The instructions, in the workspace for the CLI and in the artifact store for the record.
      const sections = [`## Task\n\n${await store.getText(input.task)}`];
      for (const [name, ref] of Object.entries(input.inputs)) sections.push(`## ${name}\n\n${await store.getText(ref)}`);
      if (input.revision) sections.push(`## Reviewer feedback on the previous experiment (revision ${input.revision.number})\n\n${input.revision.feedback}`);
      const promptText = codingAgentInstructions(sections, shareNetwork);
      await fs.writeFile(path.join(workspace, PROMPT_FILE), promptText);
      const prompt = await store.put(input.runId, `experiment/${PROMPT_FILE}`, promptText, 'text/markdown');

      try {
        // The CLI must exist where it will run: inside the sandbox, with the sandbox's PATH.
        const program = firstWord(input.command);
        if (program) {
          const check = await backend.exec(
            { workspace, command: `command -v ${shellQuote(program)}`, limits: { ...limits, wallSeconds: 30, cpuSeconds: 30 }, shareNetwork, extraEnv },
            { signal: ctx.cancellationSignal },
          );
          await fs.rm(check.outputFile, { force: true });
          if (check.exitCode !== 0 && !check.killedBy) {
            throw ApplicationFailure.nonRetryable(
              `coding agent CLI: "${program}" is not found inside the ${backend.name} sandbox (only /usr, and the sandbox Python, of the host are visible there; ` +
                'install the CLI under /usr/local or /usr on the sandbox worker, or put it in the workspace)',
              'ConfigError',
            );
          }
        }

        const before = await snapshotDirectory(workspace);
        let progress = { elapsedSeconds: 0, outputBytes: 0 };
        const result = await withHeartbeat(
          () =>
            backend.exec(
              { workspace, command: input.command, limits, shareNetwork, extraEnv, hideBundledData: isCompetitionRun(input.runId) },
              {
                signal: ctx.cancellationSignal,
                onProgress: (p) => (progress = { elapsedSeconds: Math.round(p.elapsedMs / 1000), outputBytes: p.outputBytes }),
              },
            ),
          () => ({ stage: 'experiment', agent: 'cli', ...progress }),
        );
        let output;
        try {
          output = await store.put(input.runId, 'experiment/cli-agent-output.txt', await fs.readFile(result.outputFile), 'text/plain');
        } finally {
          await fs.rm(result.outputFile, { force: true });
        }
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new CancelledFailure('cancelled');
        const filesChanged = diffSnapshots(before, await snapshotDirectory(workspace));
        const lines = [
          ...[backend.warning, warning].filter((w): w is string => !!w),
          `$ ${input.command.length > 300 ? `${input.command.slice(0, 300)}...` : input.command}`,
          `exit code ${result.exitCode}${result.signal ? ` (${result.signal})` : ''} after ${(result.durationMs / 1000).toFixed(1)} s`,
          ...(result.killedBy ? [`stopped: ${result.killedDetail ?? result.killedBy}`] : []),
          `stdout (${result.stdoutBytes} bytes), last part:\n${result.stdoutTail.replace(/\n$/, '') || '(empty)'}`,
          `stderr (${result.stderrBytes} bytes), last part:\n${result.stderrTail.replace(/\n$/, '') || '(empty)'}`,
          filesChanged.length
            ? `files changed:\n${filesChanged.slice(0, 40).map((c) => `  ${c.change} ${c.path}${c.change === 'deleted' ? '' : ` (${formatBytes(c.bytes)})`}`).join('\n')}`
            : 'files changed: none',
        ];
        const observation: Observation = runObservation(result, lines.join('\n'), output, filesChanged);
        return { action: { action: 'run', command: input.command }, observation, prompt };
      } catch (err) {
        if (err instanceof SandboxConfigError) throw ApplicationFailure.nonRetryable(err.message, 'ConfigError');
        throw err;
      }
    },
  };
}

export type CodingAgentActivities = ReturnType<typeof createCodingAgentActivities>;

/**
 * What the worker allows the coding-agent CLI: the network only with LAB_CODING_AGENT_NETWORK=1,
 * and only the variables LAB_CODING_AGENT_ENV names (those set on the worker). The warning says so.
 */
export function codingAgentIsolation(env: NodeJS.ProcessEnv): { shareNetwork: boolean; extraEnv: Record<string, string>; warning?: string } {
  const shareNetwork = env.LAB_CODING_AGENT_NETWORK === '1';
  const names = (env.LAB_CODING_AGENT_ENV ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const extraEnv: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    if (!ENV_NAME.test(name) || RESERVED.has(name)) throw ApplicationFailure.nonRetryable(`LAB_CODING_AGENT_ENV: "${name}" is not a variable the sandbox can take (a name, not one the sandbox sets itself)`, 'ConfigError');
    const value = env[name];
    if (value === undefined) missing.push(name);
    else extraEnv[name] = value;
  }
  const passed = Object.keys(extraEnv);
  const parts: string[] = [];
  if (shareNetwork) parts.push("the sandbox SHARES THE HOST'S NETWORK (LAB_CODING_AGENT_NETWORK=1)");
  if (passed.length) parts.push(`the sandbox environment RECEIVES ${passed.join(', ')} (LAB_CODING_AGENT_ENV); every other variable stays cleared`);
  if (missing.length) parts.push(`${missing.join(', ')} named in LAB_CODING_AGENT_ENV ${missing.length === 1 ? 'is' : 'are'} not set on the worker`);
  if (!shareNetwork) parts.push('the network stays off (set LAB_CODING_AGENT_NETWORK=1 if the CLI must reach its provider)');
  const weakened = shareNetwork || passed.length > 0;
  const warning = weakened || missing.length ? `WARNING: coding agent CLI: ${weakened ? 'isolation is weakened for this command: ' : ''}${parts.join('; ')}.` : undefined;
  return { shareNetwork, extraEnv, warning };
}

/** The program a shell command starts (leading `NAME=value` assignments skipped), unquoted; undefined when it is not a plain word. */
export function firstWord(command: string): string | undefined {
  for (const word of command.trim().split(/\s+/)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    const unquoted = word.replace(/^(['"])(.*)\1$/, '$2');
    return /^[\w./+-]+$/.test(unquoted) ? unquoted : undefined;
  }
  return undefined;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

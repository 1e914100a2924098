/**
 * `lab`: the Durable Lab command line. Run `lab --help` or `lab <command> --help`.
 * One module per command in scripts/commands/; each validates its arguments with its own schema.
 * The entry point is scripts/lab.mjs (`npx lab`, `node scripts/lab.mjs`), which calls `main` once.
 */
import { CliError } from './lib/client.js';
import { flushCliTracing, tracedCommand } from './lib/cliTracing.js';
import { wasInterrupted } from './lib/interrupt.js';
import { parseCommandArgs, type Command } from './lib/command.js';
import { EXIT, EXIT_CODES_HELP } from './lib/exitCodes.js';
import { print } from './lib/output.js';
import { benchCommand } from './commands/bench.js';
import { cancelCommand } from './commands/cancel.js';
import { checkCommand } from './commands/check.js';
import { clusterCommand } from './commands/cluster.js';
import { competeCommand } from './commands/compete.js';
import { envCommand } from './commands/env.js';
import { exportCommand } from './commands/export.js';
import { judgeCommand } from './commands/judge.js';
import { listCommand } from './commands/list.js';
import { resumeCommand } from './commands/resume.js';
import { reportCommand } from './commands/report.js';
import { approveCommand, rejectCommand, reviseCommand } from './commands/review.js';
import { runCommand } from './commands/run.js';
import { serverCommand } from './commands/server.js';
import { showCommand } from './commands/show.js';
import { statusCommand } from './commands/status.js';
import { tasksCommand } from './commands/tasks.js';
import { uiCommand } from './commands/ui.js';
import { workerCommand } from './commands/worker.js';

const COMMANDS: Record<string, Command<any>> = {
  server: serverCommand,
  cluster: clusterCommand,
  worker: workerCommand,
  run: runCommand,
  status: statusCommand,
  list: listCommand,
  approve: approveCommand,
  revise: reviseCommand,
  reject: rejectCommand,
  cancel: cancelCommand,
  resume: resumeCommand,
  show: showCommand,
  tasks: tasksCommand,
  judge: judgeCommand,
  bench: benchCommand,
  report: reportCommand,
  compete: competeCommand,
  env: envCommand,
  export: exportCommand,
  check: checkCommand,
  ui: uiCommand,
};

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'lab: durable research runs on Temporal',
    '',
    'usage: lab <command> [options]   (lab <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_API_KEY, TEMPORAL_PROFILE and',
    'TEMPORAL_CONFIG_FILE (a Temporal CLI profile), LAB_HOME (.lab), LAB_UI_URL, LAB_S3_BUCKET / LAB_S3_ENDPOINT (the artifact',
    'store in S3, shared by hosts), OPENAI_API_KEY / ANTHROPIC_API_KEY / OPENROUTER_API_KEY (with none set, runs use the embedded',
    'model), OTEL_EXPORTER_OTLP_ENDPOINT (OpenTelemetry traces of commands and workers). The README lists all.',
    EXIT_CODES_HELP,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    print(helpText());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`lab: unknown command "${name}" (see lab --help)\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    print(`${command.summary}\n\nusage: ${command.usage}`);
    return EXIT.ok;
  }
  try {
    const args = parseCommandArgs(command, rest);
    const run = async () => {
      const code = await command.run(args);
      return typeof code === 'number' ? code : EXIT.ok;
    };
    // A long-lived process (a worker, a server, the console) is not one span; the others are.
    const code = LONG_LIVED.has(name) ? await run() : await tracedCommand(name, run);
    return wasInterrupted() ? EXIT.interrupted : code;
  } catch (err) {
    if (wasInterrupted()) return EXIT.interrupted;
    const code = err instanceof CliError ? err.exitCode : EXIT.error;
    process.stderr.write(`lab ${name}: ${(err as Error).message}\n`);
    return code;
  } finally {
    await flushCliTracing();
  }
}

const LONG_LIVED = new Set(['server', 'cluster', 'worker', 'ui', 'env']);

/** `lab tasks`: the tasks `lab run` finds by name, and which folder each name resolves to. */
import { z } from 'zod';
import { listTasks } from '../../activities/tasks.js';
import { booleanFlag, defineCommand } from '../lib/command.js';
import { print, printJson } from '../lib/output.js';

export const tasksCommand = defineCommand({
  summary: 'list the tasks that `lab run` finds by name',
  usage: 'lab tasks [--json]',
  options: { json: { type: 'boolean' } },
  positionals: [],
  schema: z.object({ json: booleanFlag }),
  async run({ json }) {
    const tasks = await listTasks();
    if (json) return void printJson(tasks);
    if (!tasks.length) return void print('no tasks found (see the README: Tasks)');
    for (const t of tasks) {
      print(`${t.name.padEnd(36)} ${t.folder}`);
      // Two folders with one name: say which one runs, so nobody runs the wrong task by name.
      for (const other of t.shadowed) print(`${''.padEnd(36)}   (not used by name: ${other}; run it by path)`);
    }
  },
});

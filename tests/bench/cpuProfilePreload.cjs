/**
 * Preloaded with NODE_OPTIONS="--require .../cpuProfilePreload.cjs" (Node refuses --cpu-prof there):
 * profiles the process's main thread and each worker thread (the SDK's workflow thread) with the
 * inspector and writes .cpuprofile files to LAB_CPU_PROFILE_DIR. The main thread writes one when
 * the process exits on its own (a SIGKILLed process writes nothing); a worker thread is terminated
 * without an exit event, so it writes its profile in 10-second pieces, numbered.
 */
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');
const { isMainThread, threadId } = require('node:worker_threads');

const dir = process.env.LAB_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let piece = 0;
  const write = (then) =>
    session.post('Profiler.stop', (err, result) => {
      if (!err) {
        fs.mkdirSync(dir, { recursive: true });
        const name = isMainThread ? `worker-${process.pid}.cpuprofile` : `worker-${process.pid}-thread${threadId}-${piece++}.cpuprofile`;
        fs.writeFileSync(path.join(dir, name), JSON.stringify(result.profile));
      }
      if (then) then();
    });
  // A session on the process's own thread answers synchronously, so this runs before exit.
  process.on('exit', () => write());
  if (!isMainThread) setInterval(() => write(() => session.post('Profiler.start')), 10_000).unref();
}

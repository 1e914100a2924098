/**
 * Preloaded with NODE_OPTIONS="--require .../cpuProfilePreload.cjs" (Node refuses --cpu-prof there):
 * profiles the whole process with the inspector and writes a .cpuprofile to LAB_CPU_PROFILE_DIR
 * when the process exits on its own (a SIGKILLed process writes nothing).
 */
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.LAB_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // A session on the process's own thread answers synchronously, so this runs before exit.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `worker-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}

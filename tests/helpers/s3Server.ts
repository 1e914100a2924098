/**
 * A real S3-compatible server for tests: the Versity S3 Gateway (built by the set-up script into
 * .venv/go/bin) serving a temp folder on 127.0.0.1, with one bucket made through the S3 API.
 * The environment it returns is what a worker or the CLI needs to use it as the artifact store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { PROJECT_ROOT } from '../../scripts/lib/paths.js';
import { freePort, sigkill } from './labProcesses.js';
import { waitFor } from './wait.js';

export const VERSITYGW = process.env.LAB_VERSITYGW ?? path.join(PROJECT_ROOT, '.venv', 'go', 'bin', 'versitygw');

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** LAB_S3_* and AWS_* for a process that uses this server as its store. */
  env: Record<string, string>;
  /** The folder the gateway keeps objects in (`<dataDir>/<bucket>/<key>`), to tamper with in tests. */
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const ACCESS_KEY = 'lab-test-access';
const SECRET_KEY = 'lab-test-secret-not-a-real-one';

export async function startS3Server(dir: string, bucket = 'lab-artifacts'): Promise<S3TestServer> {
  if (!existsSync(VERSITYGW)) throw new Error(`${VERSITYGW} is missing: run \`bash scripts/setup.sh\` (it builds the Versity S3 Gateway with go install)`);
  const dataDir = path.join(dir, 's3-data');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const log = createWriteStream(path.join(dir, 's3-server.log'), { flags: 'a' });
  const child = spawn(VERSITYGW, ['--port', `127.0.0.1:${port}`, '--access', ACCESS_KEY, '--secret', SECRET_KEY, '--quiet', 'posix', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the S3 server exited (code ${child.exitCode}); see ${path.join(dir, 's3-server.log')}`);
        return client.send(new CreateBucketCommand({ Bucket: bucket })).then(
          () => true,
          (err: Error) => (/ECONNREFUSED|socket hang up/.test(String(err)) ? undefined : Promise.reject(err)),
        );
      },
      'the S3 server to take a bucket',
      20_000,
      100,
    );
  } finally {
    client.destroy();
  }
  const env = {
    LAB_S3_BUCKET: bucket,
    LAB_S3_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: 'us-east-1',
  };
  return { endpoint, bucket, env, dataDir, process: child, stop: () => sigkill(child) };
}

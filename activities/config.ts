/** Where Durable Lab keeps its local state; everything is under one folder (`.lab/` by default). */
import path from 'node:path';

export function labHome(): string {
  return path.resolve(process.env.LAB_HOME ?? '.lab');
}

export function artifactRoot(): string {
  return path.resolve(process.env.LAB_ARTIFACT_DIR ?? path.join(labHome(), 'artifacts'));
}

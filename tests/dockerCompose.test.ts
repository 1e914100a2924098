/**
 * docker-compose.yml cannot be started here (no Docker engine), so check what can be checked:
 * it parses, registers exactly the lab's search attributes, and its workers name real queues,
 * pass provider keys only to the llm worker, and share the artifact store with the host CLI.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LAB_SEARCH_ATTRIBUTES } from '../common/searchAttributes.js';
import { parseQueues } from '../workers/createWorkers.js';

const root = path.join(__dirname, '..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, the Temporal server, its UI and both worker kinds', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'search-attributes', 'worker-research', 'worker-llm']),
    );
    expect(compose.services.temporal.environment.DB).toMatch(/^postgres/);
    expect(compose.services.temporal.ports).toContain('7233:7233');
    expect(compose.services['temporal-ui'].ports[0]).toMatch(/^8233:/);
  });

  it('registers exactly the search attributes the workflow upserts', () => {
    const command: string = compose.services['search-attributes'].command.join(' ');
    const names = /for name in ([\w ]+); do/.exec(command)![1].trim().split(/\s+/);
    expect(names.sort()).toEqual(LAB_SEARCH_ATTRIBUTES.map((k) => k.name).sort());
    expect(command).toContain('--type Keyword');
  });

  it('starts workers on real queues, with keys only where LLM calls run', () => {
    for (const name of ['worker-research', 'worker-llm', 'worker-sandbox']) {
      const w = compose.services[name];
      expect(() => parseQueues(w.environment.LAB_WORKER_QUEUES)).not.toThrow();
      expect(w.volumes).toContain('./.lab:/data');
    }
    // Every queue a run needs is served by some worker; provider keys reach only the LLM worker, never the sandbox.
    const served = new Set(['worker-research', 'worker-llm', 'worker-sandbox'].flatMap((n) => parseQueues(compose.services[n].environment.LAB_WORKER_QUEUES)));
    expect([...served].sort()).toEqual(parseQueues('all').sort());
    for (const name of ['worker-research', 'worker-sandbox']) {
      expect(Object.keys(compose.services[name].environment).filter((k) => /^(OPENAI|ANTHROPIC|OPENROUTER)_API_KEY$/.test(k))).toEqual([]);
    }
    expect(compose.services['worker-sandbox'].build.target).toBe('sandbox');
    expect(compose.services['worker-llm'].environment.ANTHROPIC_API_KEY).toBe('${ANTHROPIC_API_KEY:-}');
  });

  it('builds from a Dockerfile whose entry point exists', () => {
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]) as string[];
    expect(existsSync(path.join(root, cmd.at(-1)!))).toBe(true);
    for (const folder of ['workflows', 'activities', 'workers', 'common']) expect(dockerfile).toContain(`COPY ${folder} ./${folder}`);
  });
});

# Worker image for docker-compose.yml and clusters: Node 20 + the project's npm packages.
# The Temporal server and the S3 store come from their own images, so no .venv is needed here.
# Two targets, each named by a service's `build.target` (without one, docker builds the last):
#   worker   workflows, literature search and LLM calls (the research and llm pools)
#   sandbox  adds bubblewrap and the sandbox Python, for the pool that runs experiment code
FROM node:20-bookworm-slim AS worker
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev && npm cache clean --force
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY scripts ./scripts
COPY tasks ./tasks
# The judges' rubrics, read at run time by the review activities.
COPY rubrics ./rubrics
COPY tsconfig.json ./
ENV LAB_HOME=/data
CMD ["node", "--import", "tsx", "workers/main.ts"]

FROM worker AS sandbox
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap python3 python3-venv \
  && rm -rf /var/lib/apt/lists/*
COPY scripts/requirements-sandbox.txt ./scripts/
# The sandbox Python: the experiment's packages and no pip (nothing can be installed from inside).
RUN python3 -m venv .venv-sandbox && .venv-sandbox/bin/pip install --no-cache-dir -r scripts/requirements-sandbox.txt \
  && .venv-sandbox/bin/pip uninstall -y pip && rm -f .venv-sandbox/bin/pip*
ENV LAB_WORKER_QUEUES=sandbox

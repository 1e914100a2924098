# Worker image for docker-compose and clusters: Node 20 + the project's npm packages.
# The Temporal server comes from its own images in docker-compose.yml, so no .venv is needed here.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --omit=dev && npm cache clean --force
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY scripts ./scripts
COPY tasks ./tasks
COPY tsconfig.json ./
ENV LAB_HOME=/data
CMD ["node", "--import", "tsx", "workers/main.ts"]

# The API and worker image (docker-compose.yml). Runs the API by default; the
# worker service overrides the command with `node_modules/.bin/tsx workers/main.ts`.
FROM node:20.19.5-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so source edits reuse this layer. tsx is a production
# dependency: the TypeScript sources run as they are, no build step.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Source directories by name, so node_modules, .tools/ and data/ from the build
# context never land in the image. test/unit/docker-compose.test.ts checks that
# every top-level directory with TypeScript sources is listed here.
COPY tsconfig.json ./
COPY config ./config
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY clients ./clients
COPY store ./store
COPY workers ./workers
COPY api ./api
COPY reference-data ./reference-data
COPY scripts ./scripts

USER node
EXPOSE 3000
CMD ["node_modules/.bin/tsx", "api/main.ts"]

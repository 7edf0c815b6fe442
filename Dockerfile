# syntax=docker/dockerfile:1
# Herald: one image for every role. Default command is the worker; the API runs the same image with `npm run api`
# (temporal-docker/docker-compose.yml does both).
#
#   docker build -t herald:0.1.0 .
#   docker run --rm herald:0.1.0                 # worker
#   docker run --rm -p 3000:3000 herald:0.1.0 npm run api

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install everything, generate the Prisma client, bundle the workflows, then drop dev dependencies -------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

COPY package.json package-lock.json ./
# The client SDK is an npm workspace of the repository: npm ci needs its manifest.
COPY packages/client/package.json packages/client/
# --ignore-scripts: no dependency install script is needed at run time (Temporal's core bridge and esbuild/swc ship
# prebuilt binaries as packages, and Prisma runs on driver adapters without its native engines), and skipping them
# keeps the build from downloading anything beyond the npm registry. `prisma generate` runs explicitly below.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts

COPY . .

# Prisma 6.19.3 client from prisma/schema.prisma into generated/. prisma.config.ts supplies a placeholder DATABASE_URL
# when none is set, so no database is needed here; remove anything an embedded-database fallback left behind.
RUN npx prisma generate && rm -rf .data

# Prebuilt workflow bundle: workers load dist/workflow-bundle.js instead of running webpack at every start-up, so a new
# replica is ready in seconds and every replica runs byte-identical workflow code.
RUN npx tsx scripts/bundle-workflows.ts && test -s dist/workflow-bundle.js

# The operator dashboard's page and bundle (served by the API at /dashboard).
RUN node scripts/build-dashboard.js && test -s dist/dashboard/app.js

RUN npm prune --omit=dev --ignore-scripts

# ---- runtime --------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# Application files stay owned by root and read-only to the process; only .data (the embedded database of a
# stand-alone `npm start`) is writable by the runtime user.
COPY --from=build /app /app
RUN mkdir -p /app/.data && chown node:node /app/.data

# The node image's unprivileged user (uid 1000).
USER node

EXPOSE 3000

# API and worker both serve GET /healthz on PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["npm", "run", "worker"]

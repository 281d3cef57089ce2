# The Library (fastrest's flagship app) as a container image.
# The app's own TypeScript runs directly (Node strips types); the framework it depends on, the
# workspace package `fastrest` (src/rest/), is built to JavaScript first, as an app installing
# the package from the registry would get it. The image holds the Library's sources, schemas/,
# migrations/, the built package and the production dependencies only.
#
#   docker build -t fastrest .
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://user:pass@db:5432/library fastrest
#
# Configuration comes from the environment only (see docs/deploy.md).

# --- deps: production dependencies, exactly as locked, no install scripts --------------------
FROM docker.io/library/node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY src/rest/package.json ./src/rest/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- build: the fastrest package to JavaScript (tsc needs the dev dependencies) --------------
FROM docker.io/library/node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY src/rest/package.json ./src/rest/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY src/rest ./src/rest
RUN node src/rest/build.ts

# --- runtime ------------------------------------------------------------------------------------
FROM docker.io/library/node:24-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data/pglite \
    MIGRATE_ON_START=true
WORKDIR /app
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
# slim images have no curl: node itself asks the readiness probe.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# main.ts handles SIGTERM: stops accepting, lets in-flight requests finish (at most 10 s), exits 0.
STOPSIGNAL SIGTERM
# --liftoff-only: the embedded database's WASM stays on V8's baseline compiler (about 70 MiB less RSS and a faster start, same speed; docs/performance.md).
CMD ["node", "--liftoff-only", "src/library/main.ts"]
# The files come last, so that a code change rebuilds only these layers. They stay owned by
# root (read-only for the app); only the embedded database's folder (above) is the app user's.
# node_modules/fastrest is the workspace's link to src/rest, which holds the manifest and dist/.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src/rest/package.json ./src/rest/
COPY --from=build /app/src/rest/dist ./src/rest/dist
COPY schemas ./schemas
COPY migrations ./migrations
COPY src/library ./src/library

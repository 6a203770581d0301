# syntax=docker/dockerfile:1
# One image for every role of the pipeline: `run --role source|processor|relay`, `status`,
# and the database CLI (`app/db-cli.ts migrate|seed`). Node 24 runs the TypeScript sources
# directly (type stripping), so there is no build stage and no compiler in the image.
FROM node:24-slim

# METRICS_HOST: the app binds its endpoints to 127.0.0.1 by default; in a container that would
# shut out Prometheus and Kubernetes probes, and the container's network is the boundary here
# (publish the port, if at all, to 127.0.0.1).
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    METRICS_PORT=9464 \
    METRICS_HOST=0.0.0.0

WORKDIR /app

# Dependencies first, so a source change does not reinstall them. --omit=dev also leaves out
# the `node` devDependency: the image's own Node 24 runs the code. No production dependency
# needs an install script.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY --chown=node:node . .
USER node

# /metrics, /healthz and /readyz (METRICS_PORT; 0 turns them off, and with them this healthcheck).
# The healthcheck is liveness (/healthz: fails once a partition stayed halted past
# HALTED_LIVENESS_TIMEOUT_MS), not readiness: a processor without partitions is alive.
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The processes handle SIGTERM themselves: stop fetching, commit, publish the outbox, exit 0.
CMD ["node", "app/cli.ts", "run", "--no-status"]

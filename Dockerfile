# infergate's container image: `docker build -t infergate .`, then e.g. `docker run infergate serve --kube`.
# deploy/kustomize/ runs it in a cluster.
#
# Two stages: the build stage compiles TypeScript with the dev dependencies, the runtime stage holds only
# what `node dist/src/cli/main.js` loads at run time:
#   dist/src/      the compiled CLI (tests, test kits and fixtures removed)
#   node_modules/  production dependencies only
#   package.json   "type": "module", which makes Node load dist/**/*.js as ES modules
#   proto/         the ext_proc and gRPC health .proto files, loaded at run time from ../../../proto relative
#                  to dist/src/envoy/protos.js, i.e. /app/proto
#   examples/      examples/seed-demo, which `infergate demo` runs by default (../../../examples from
#                  dist/src/cli/demo.js)
#   src/observability/dashboard/assets/
#                  the admin port's dashboard page, read at startup by every command that opens the admin port
#                  (../../../../src/observability/dashboard/assets from dist/src/observability/dashboard/)
# That is the layout of the npm package ("files" in package.json), bin/ aside.
# Runtime base: node:20-bookworm-slim, the same Debian and Node as the build stage. distroless/nodejs20 would
# be smaller still, but its entrypoint is /nodejs/bin/node and it has no shell to debug a pod with.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
# `npm run build` is `node scripts/build.mjs` (an emptied dist/, then tsc).
COPY scripts/build.mjs ./scripts/build.mjs
COPY src ./src
# .dockerignore keeps src/**/*.test.ts, the test kits and fixtures beside them, and test/, bench/ out, so tsc
# compiles only what ships.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY LICENSE ./LICENSE
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY proto ./proto
COPY examples ./examples
COPY src/observability/dashboard/assets ./src/observability/dashboard/assets
# Numeric, so Kubernetes' runAsNonRoot can check it without a passwd entry.
USER 10001:10001
# serve 8080; extproc: EPP 9002, gRPC health 9003, BBR 9004, metrics 9090.
EXPOSE 8080 9002 9003 9004 9090
# A 32 MiB semi-space (young generation) took CPU per request from 98 to 86 µs in the overhead scenario: each scavenge copies the
# requests in flight, so fewer scavenges cost less (docs/benchmarks.md, scenario overhead).
ENTRYPOINT ["node", "--max-semi-space-size=32", "/app/dist/src/cli/main.js"]
CMD ["--help"]

# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build --target api -t graft-api .      (API + CPU worker: tfjs-node, or wasm)
#   docker build --target worker-gpu -t graft-worker-gpu .   (CUDA 11.2 + cuDNN 8 + tfjs-node-gpu)
# Both run Node 24 (the current LTS line; Graft also supports 22).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
# Optional native tfjs bindings download libtensorflow here (the build has internet).
# onnxruntime-node's CPU binaries ship in its package; its install script would only fetch
# CUDA providers, which Graft does not use (the GPU worker trains on tfjs-node-gpu).
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json openapi.yaml ./
COPY src ./src
# onnxruntime-node ships CPU binaries for five platforms (~290 MB): keep this image's only.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund \
  && arch=$(node -p process.arch) \
  && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 \
     ! -path "*/linux/$arch" -exec rm -rf {} +

FROM node:24-bookworm-slim AS api
ENV NODE_ENV=production GRAFT_DATA_DIR=/data HOST=0.0.0.0 PORT=3000
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 graft \
  && mkdir -p /data && chown graft /data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json openapi.yaml prisma.config.ts ./
COPY prisma ./prisma
COPY models ./models
USER graft
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Applies migrations, then serves the API (stateless; run as many replicas as you like).
CMD ["sh", "-c", "node node_modules/prisma/build/index.js migrate deploy && exec node dist/api/server.js"]

FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS worker-gpu
ENV NODE_ENV=production GRAFT_DATA_DIR=/data TF_FORCE_GPU_ALLOW_GROWTH=true
# The same Node 24 as the build stage (official builds need glibc 2.28; Ubuntu 20.04 has 2.31).
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --system --uid 10001 graft && mkdir -p /data && chown graft /data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json openapi.yaml ./
COPY models ./models
USER graft
VOLUME /data
# Picks tfjs-node-gpu when the GPU is visible; GET /readyz shows the backend each worker uses.
CMD ["node", "dist/worker/main.js"]

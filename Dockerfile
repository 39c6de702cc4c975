# Reelsmith's render service in a container: Debian (bookworm) slim with Node 20 and Debian's
# ffmpeg, the data folder (database, outputs, caches) on a volume, run as the unprivileged
# `node` user.
#   docker build -t reelsmith .
#   docker run -p 8080:8080 -v reelsmith-data:/data reelsmith
# Admin commands run in the same container: docker exec <container> reelsmith keys create ...

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles SQLite when its prebuilt binary cannot be fetched
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY config config
COPY src src
# `npm ci` builds dist/ (the package's prepare step); then only what runs stays. Debian's
# ffmpeg is on PATH, so the static builds inside the npm packages would never run.
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/@ffmpeg-installer/linux-* node_modules/@ffprobe-installer/linux-*

FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/bin bin
COPY --from=build /app/config config
RUN ln -s /app/bin/reelsmith.js /usr/local/bin/reelsmith \
  && mkdir /data && chown node:node /data
ENV REELSMITH_DATA=/data PORT=8080
VOLUME /data
USER node
EXPOSE 8080
CMD ["reelsmith", "serve"]

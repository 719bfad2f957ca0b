# The dashboard image, built from source: a Rust stage builds the server and the WASM front end
# with cargo-leptos, a slim Debian stage runs them. docker-compose.yml builds it.
# RUST_IMAGE and BASE may point at a mirror or at local images (see scripts/build-base-image.sh).
ARG RUST_IMAGE=rust:1-bookworm
ARG BASE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
# The same pinned tools as scripts/common.sh; cargo-leptos without its downloads, wasm-opt
# from npm's binaryen (Debian 12's is too old for wasm-bindgen 0.2.130's output).
RUN rustup target add wasm32-unknown-unknown \
 && cargo install --locked wasm-bindgen-cli --version 0.2.130 \
 && cargo install --locked cargo-leptos --version 0.3.10 --features no_downloads
WORKDIR /src
COPY package.json package-lock.json ./
RUN mkdir public && npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN npm run postinstall \
 && PATH="/src/node_modules/.bin:$PATH" cargo leptos build --release \
 && mkdir /out \
 && cp target/release/claude-worker-farm /out/ \
 && cp -r target/site /out/site

FROM ${BASE} AS dashboard
COPY --from=build /out/claude-worker-farm /usr/local/bin/claude-worker-farm
COPY --from=build /out/site /srv/site
ENV LEPTOS_SITE_ROOT=/srv/site FARM_BIND=0.0.0.0:8080 RUST_LOG=info
# Root inside the container: the Docker socket it is given is root-equivalent anyway, and a
# socket's group id differs from host to host. It runs nothing but the dashboard.
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/claude-worker-farm"]

# A container for an MCP server built with mcp-runtime: a multi-stage build, a small runtime
# image, the authorization server's store on a volume. By default it packages the
# `oauth_proxy` example; build your own binary with `--build-arg BIN=<name>` (a `[[bin]]` of
# your crate) or `--build-arg EXAMPLE=<name>`.
#
#   docker build -t my-mcp .
#   docker run -p 3000:3000 -v mcp-state:/var/lib/mcp \
#     -e MCP_URL=https://mcp.example.com/mcp \
#     -e MCP_USE_OAUTH_PROXY_ISSUER=... (the preset's variables, or --env-file .env) my-mcp
#
# The deployment guide (mcp-runtime/guides/deployment.md, "In a container") explains each line.

# --- build ---------------------------------------------------------------------------------
# The toolchain rust-toolchain.toml pins (a newer one is a deliberate change, as there).
FROM rust:1.95.0-bookworm AS build
# aws-lc-rs (the TLS and JWT crypto) compiles C: a C compiler, make and cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG EXAMPLE=oauth_proxy
ARG BIN=
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    if [ -n "$BIN" ]; then \
      cargo build --release --locked --bin "$BIN" && cp "target/release/$BIN" /server; \
    else \
      cargo build --release --locked --example "$EXAMPLE" && cp "target/release/examples/$EXAMPLE" /server; \
    fi

# --- run -----------------------------------------------------------------------------------
FROM debian:bookworm-slim
# CA certificates for the identity provider's HTTPS endpoints (JWKS, token, userinfo).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/mcp mcp \
 && mkdir -p /var/lib/mcp && chown mcp /var/lib/mcp
COPY --from=build /server /usr/local/bin/mcp-server
USER mcp
# Every interface of the container; the public URL (MCP_URL) must be given at `docker run`:
# the server refuses a non-loopback address without it, since it cannot know its own URL.
ENV HOST=0.0.0.0
ENV PORT=3000
# Registrations, refresh tokens and signing keys survive a restart (and a new image).
ENV MCP_STORE_URL=/var/lib/mcp/store.redb
ENV RUST_LOG=info
VOLUME /var/lib/mcp
EXPOSE 3000
# Probes: GET /healthz answers 200 with no token and no Host check.
ENTRYPOINT ["/usr/local/bin/mcp-server"]

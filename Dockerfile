# b24local in a container (README, "Docker"): `b24local serve` on 0.0.0.0:8000 as a non-root user, its
# SQLite database in the volume /data. Every serve option can be given as $B24LOCAL_<OPTION>.
#
#   docker build -t b24local .
#   docker run -p 8000:8000 -v b24local-data:/data -e B24LOCAL_WEBHOOK_CODE=ci_code_1 b24local
#
# BASE_IMAGE: any image with Python 3.11+ and its venv module as `$PYTHON` (python:3.1x-slim, or
# Debian with python3, python3-venv and ca-certificates, as the suite makes where no registry is
# reachable: tests/test_docker.py). Behind a TLS-inspecting proxy, put its CA bundle in
# docker/ca-certificates.crt (git ignores it) and pip uses it; PIP_INDEX_URL names another index.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ARG PYTHON=python3
ARG PIP_INDEX_URL
# What .dockerignore lets in: pyproject.toml, README.md, constraints.txt, src/, docker/. Few steps,
# since on dockerd's vfs storage each one copies the whole file system.
COPY . /src
# The wheel of b24local and of each dependency (pinned by constraints.txt), then a virtual
# environment holding them, which the runtime stage copies whole.
RUN set -eu; \
    cd /src; \
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore; \
    if [ -s docker/ca-certificates.crt ]; then export PIP_CERT=/src/docker/ca-certificates.crt; fi; \
    "$PYTHON" -m venv /opt/b24local; \
    /opt/b24local/bin/pip wheel --quiet --wheel-dir /wheels -c constraints.txt .; \
    /opt/b24local/bin/pip install --quiet --no-index --find-links /wheels b24local; \
    /opt/b24local/bin/b24local --version

FROM ${BASE_IMAGE}
COPY --from=build /opt/b24local /opt/b24local
# A fixed uid, so that a bind-mounted /data can be given to it (chown 10001).
RUN groupadd --gid 10001 b24local \
    && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin b24local \
    && mkdir -p /data \
    && chown 10001:10001 /data
ENV PATH=/opt/b24local/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    B24LOCAL_HOST=0.0.0.0 \
    B24LOCAL_PORT=8000 \
    B24LOCAL_DATABASE_URL=sqlite:////data/b24local.db
# Declared after the chown: a new named volume starts as this folder, owned by b24local.
VOLUME /data
WORKDIR /data
USER 10001:10001
EXPOSE 8000
# Plain HTTP on $B24LOCAL_PORT (with --tls, give docker run a --health-cmd of your own).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('B24LOCAL_PORT', '8000') + '/_b24local/health', timeout=4)"]
ENTRYPOINT ["b24local"]
CMD ["serve"]

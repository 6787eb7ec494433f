# Tandem container image: see docs/deploy.md.
#   docker build -t tandem .
#   docker run --rm --env-file .env tandem db upgrade      # migrations: a separate, one-off step
#   docker run -d --env-file .env -p 3978:3978 tandem      # then the server (serve --no-migrate)

# --- build the wheels (Tandem and its dependencies, with the PostgreSQL driver) ----------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY tandem ./tandem
# content and manifests live at the top; bot/content/prompts and adapters/*/manifest link to them
COPY prompts ./prompts
COPY manifest ./manifest
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

# --- the runtime image: no compilers, no sources, not root ------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TANDEM_HOST=0.0.0.0 \
    TANDEM_PORT=3978 \
    TANDEM_LOG_FORMAT=json
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home tandem
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "tandem[postgres]" && rm -rf /wheels
USER tandem
WORKDIR /app
EXPOSE 3978
# /healthz answers 503 when the database is unreachable; urlopen raises on it, so the check fails
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3978/healthz', timeout=4)"]
ENTRYPOINT ["tandem"]
CMD ["serve", "--no-migrate"]

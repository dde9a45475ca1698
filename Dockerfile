# Switchyard image: the gateway (ASGI), Celery worker and beat, and, built with EXTRAS=agent,
# the local agent with its weight backend (torch + transformers).
#   docker build -t switchyard .
#   docker build -t switchyard-agent --build-arg EXTRAS=agent .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LOG_FILE="" PIP_NO_CACHE_DIR=1
WORKDIR /app
# Optional extras to install, comma-separated (e.g. "agent").
ARG EXTRAS=""
# torch for the agent comes from PyTorch's CPU index: PyPI's torch for Linux is a multi-GB CUDA
# build. On a GPU host, point this at the matching CUDA index (e.g. .../whl/cu128).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p gateway governance providers agents \
    && pip install --extra-index-url "$TORCH_INDEX_URL" ".${EXTRAS:+[$EXTRAS]}" \
    && pip uninstall -y switchyard
COPY . .
RUN pip install --no-deps . && useradd --system --uid 10001 --home /app switchyard \
    && mkdir -p /app/data /app/logs /app/staticfiles && chown -R switchyard /app/data /app/logs /app/staticfiles
USER switchyard
EXPOSE 8000 5000
# One container on its own (SQLite unless DATABASE_URL is set); compose runs `migrate` once instead.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn gateway.asgi:application --host 0.0.0.0 --port 8000 --loop uvloop --http httptools --no-access-log --workers ${WEB_CONCURRENCY:-2}"]

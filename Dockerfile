# Switchyard gateway image (ASGI server; Celery worker and beat will use the same image).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LOG_FILE=""
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && uvicorn gateway.asgi:application --host 0.0.0.0 --port 8000 --loop uvloop --http httptools --no-access-log --workers ${WEB_CONCURRENCY:-2}"]

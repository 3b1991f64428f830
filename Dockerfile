# The SalesFlow image: web (gunicorn), Celery worker and Celery beat all run from it.
# docker-compose.yml at the repo root wires it to postgres:15 and redis:7 containers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Settings, templates, static files and message catalogues are read from the
    # checkout under /app, so /app comes first on the import path.
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=salesflow.settings.dev

WORKDIR /app
COPY . /app
RUN pip install . \
    && python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --create-home --home-dir /home/salesflow salesflow \
    && mkdir -p /app/.data/media \
    && chown -R salesflow /app/.data

USER salesflow
EXPOSE 8000
CMD ["gunicorn", "salesflow.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

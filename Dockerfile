# The API: migrates its database, then serves app.main:app on port 8000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 workforce
WORKDIR /srv/workforce

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY optimiser ./optimiser
COPY seed ./seed
COPY migrations ./migrations
# Editable, so the app finds alembic.ini and migrations/ beside it for /readyz.
RUN pip install -e . && mkdir -p var && chown workforce:workforce var

USER workforce
# Production refuses to start without WORKFORCE_TOKEN_KEY (the key tokens are hashed with).
ENV WORKFORCE_ENVIRONMENT=production \
    DATABASE_URL=sqlite:////srv/workforce/var/workforce.db
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"

CMD ["sh", "-c", "alembic upgrade head && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --proxy-headers"]

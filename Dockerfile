# citybot: one image for the web, worker and clock processes (see compose.yaml).
#   docker build -t citybot .
#   docker run --rm citybot citybot db upgrade          # the release step, before new web processes
#   docker run -p 8000:8000 citybot                      # web (gunicorn); `citybot worker`, `citybot scheduler`
# Dependencies come from requirements.lock (hashes checked), the project itself with --no-deps.
# bookworm: its postgresql-client (15) dumps the PostgreSQL 15 of compose.yaml (pg_dump must not be older).
# Content is baked in at /srv/citybot/content; mount a checkout over it to serve what staff update.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/citybot \
    && /opt/citybot/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
RUN /opt/citybot/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/citybot/bin:$PATH \
    CITYBOT_ENV=production \
    LOG_FORMAT=json
# pg_dump and pg_restore for `citybot db backup` / `db restore` against PostgreSQL
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /srv/citybot --create-home --shell /usr/sbin/nologin citybot
COPY --from=build /opt/citybot /opt/citybot
WORKDIR /srv/citybot
COPY gunicorn.conf.py wsgi.py ./
COPY content ./content
RUN mkdir -p instance && chown 10001:10001 instance
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]

# regwatch: one image for all three services (`regwatch run --only <service>`).
#   docker build -t regwatch .
#   docker run --rm -p 8080:8080 regwatch run          # everything embedded (Tansu, SQLite, mail sink)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 regwatch \
    && useradd --system --uid 10001 --gid regwatch --home-dir /home/regwatch --create-home \
        --shell /usr/sbin/nologin regwatch \
    && mkdir -p /var/lib/regwatch \
    && chown regwatch:regwatch /var/lib/regwatch

WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p shared services \
    && touch shared/__init__.py services/__init__.py \
    && pip install . \
    && pip uninstall -y regwatch \
    && rm -rf shared services build *.egg-info
COPY shared ./shared
COPY services ./services
RUN pip install --no-deps . && rm -rf build *.egg-info

USER regwatch
ENV REGWATCH_DATA_DIR=/var/lib/regwatch \
    REGWATCH_HTTP_HOST=0.0.0.0 \
    REGWATCH_HTTP_PORT=8080 \
    REGWATCH_LOG_FORMAT=json
VOLUME ["/var/lib/regwatch"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/readyz', timeout=4)"]

ENTRYPOINT ["regwatch"]
CMD ["run"]

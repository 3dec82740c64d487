"""gunicorn settings: `gunicorn -c adminui/gunicorn.conf.py adminui.wsgi`. Upstream calls time out (connection
timeout, at most 25 s) before the worker timeout below, so an operator always gets an answer.

Logs: gunicorn's access and error lines use the console's own format (JSON, or text with LOG_FORMAT=text), one line
each, the access line carrying the request id of the response."""

from __future__ import annotations

import os

from apps.core.logging import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# Peers whose X-Forwarded-Proto gunicorn believes (comma-separated; the reverse proxy's address). The console's own
# view of the client address uses ADMINUI_TRUSTED_PROXIES: set both to the proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
_debug = os.environ.get("DEBUG", "").lower() in ("1", "true", "yes", "on")
logconfig_dict = logging_config(
    fmt=os.environ.get("LOG_FORMAT", "text" if _debug else "json"), level=os.environ.get("LOG_LEVEL", "INFO")
)

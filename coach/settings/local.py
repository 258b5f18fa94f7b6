"""Development and the embedded default of `make run`: SQLite and a file-system broker under var/."""

from coach.settings.base import *  # noqa: F403
from coach.settings.env import env, env_bool

# Off by default, so `make run` shows the app's own error pages; DJANGO_DEBUG=true for tracebacks.
DEBUG = env_bool("DJANGO_DEBUG", False)
DEMO_ALLOWED = True
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-key-not-for-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

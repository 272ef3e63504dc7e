"""Extensions, created unbound and bound to the app in :func:`lms_core.create_app`.

Plugins import what they need from here (``db``, ``csrf``, ``limiter``) rather than
creating their own, so one app has one session, one CSRF secret and one rate limiter.
"""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from lms_core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

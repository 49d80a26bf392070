"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from registry.app import create_app

app = create_app()

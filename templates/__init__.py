"""Jinja2 templates: ``notices/`` for plain-text messages, ``board/`` for HTML pages."""

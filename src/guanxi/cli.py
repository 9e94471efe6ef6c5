"""The ``guanxi`` command: operators' and analysts' entry point. Every command honours DATABASE_URL."""

import os
import sys


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django

    django.setup()


def main() -> None:
    from guanxi.commands import app

    app()


if __name__ == "__main__":
    sys.exit(main())

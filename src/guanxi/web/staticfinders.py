"""Serve Plotly's bundle straight from the plotly package (no CDN, no copy in our tree).

HTMX needs no finder: django-htmx ships it as app static files (``{% htmx_script %}``)."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

VENDOR_FILES = {
    "vendor/plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
}


class VendorFinder(BaseFinder):
    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        match = VENDOR_FILES.get(path)
        if match is None or not match.exists():
            return [] if find_all else None
        return [str(match)] if find_all else str(match)

    def list(self, ignore_patterns):
        for name, source in VENDOR_FILES.items():
            storage = FileSystemStorage(location=str(source.parent))
            storage.prefix = str(Path(name).parent)
            yield source.name, storage

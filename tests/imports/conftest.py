import pytest


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, settings):
    """Uploaded files go under a fresh DATA_DIR per test."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def write(tmp_path):
    """``write(name, text_or_bytes, encoding="utf-8")`` -> the path of a file under tmp_path."""

    def make(name: str, content, encoding: str = "utf-8"):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return make


@pytest.fixture
def run_import(db):
    """``run_import(user, kind, path, **kw)`` -> the finished job (created, started and run in-process)."""
    from guanxi.imports import services

    def run(user, kind, path, **kwargs):
        return services.import_file(actor=user, kind=kind, path=path, **kwargs)

    return run

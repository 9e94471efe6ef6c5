"""A real HTTP receiver on 127.0.0.1 for webhook tests (the outside world: the only thing we stand in for)."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Answers in order: (status, body, headers, delay seconds); the last one repeats.
    script: list[tuple[int, str, dict, float]] = field(default_factory=lambda: [(200, "ok", {}, 0.0)])

    def answer(self, *answers) -> None:
        defaults = (200, "", {}, 0.0)
        self.script = [tuple(answer) + defaults[len(answer) :] for answer in answers]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            index = min(len(receiver.requests), len(receiver.script)) - 1
            status, text, headers, delay = receiver.script[index]
            if delay:
                time.sleep(delay)
            data = text.encode()
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    """``receiver.url`` answers POSTs as scripted with ``receiver.answer((500, "boom"), (200, "ok"))``; every
    request is in ``receiver.requests``."""
    box = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast_retries(settings):
    settings.GUANXI_WEBHOOK_RETRY_DELAYS = [1, 2, 4]
    settings.GUANXI_WEBHOOK_TIMEOUT = (1.0, 0.5)
    return settings

"""The wire, against real local servers: TLS to a pinned address still verifies the certificate for the URL's
host name, and an address that refuses the connection falls through to the next checked one."""

import http.server
import ssl
import subprocess
import threading

import pytest

from guanxi.integrations import transport


def _destination(host: str, port: int, *addresses: str, scheme: str = "http") -> transport.Destination:
    return transport.Destination(
        url=f"{scheme}://{host}:{port}/hook", scheme=scheme, host=host, port=port, addresses=addresses
    )


def test_an_address_that_refuses_falls_through_to_the_next(receiver):
    port = int(receiver.url.split(":")[2].split("/")[0])
    # Nothing listens on 127.0.0.2 (the receiver is bound to 127.0.0.1 only): no connection, nothing sent.
    outcome = transport.post(_destination("hooks.example.com", port, "127.0.0.2", "127.0.0.1"), headers={}, body="{}")
    assert outcome.succeeded, outcome.error
    assert len(receiver.requests) == 1


def test_only_refused_addresses_is_a_connection_failure(receiver):
    port = int(receiver.url.split(":")[2].split("/")[0])
    outcome = transport.post(_destination("hooks.example.com", port, "127.0.0.2", "127.0.0.3"), headers={}, body="{}")
    assert not outcome.succeeded and "Connection failed" in outcome.error


@pytest.fixture(scope="module")
def tls_receiver(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for hooks.example.com."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=hooks.example.com",
            "-addext",
            "subjectAltName=DNS:hooks.example.com",
        ],
        check=True,
        capture_output=True,
    )
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            seen.append(self.headers.get("host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_address[1], str(cert), seen
    server.shutdown()
    server.server_close()


def test_tls_to_the_pinned_address_verifies_the_host_name(tls_receiver, settings):
    port, cert, seen = tls_receiver
    settings.GUANXI_WEBHOOK_CA_BUNDLE = cert

    good = transport.post(_destination("hooks.example.com", port, "127.0.0.1", scheme="https"), headers={}, body="{}")
    assert good.succeeded and good.status_code == 204, good.error
    assert seen[-1] == f"hooks.example.com:{port}"

    # The same address under another name: the certificate does not match, nothing is delivered.
    wrong = transport.post(_destination("other.example.com", port, "127.0.0.1", scheme="https"), headers={}, body="{}")
    assert not wrong.succeeded and "Connection failed" in wrong.error
    assert len(seen) == 1


def test_tls_without_the_ca_is_refused(tls_receiver, settings):
    port, _cert, seen = tls_receiver
    settings.GUANXI_WEBHOOK_CA_BUNDLE = None
    before = len(seen)
    outcome = transport.post(
        _destination("hooks.example.com", port, "127.0.0.1", scheme="https"), headers={}, body="{}"
    )
    assert not outcome.succeeded and len(seen) == before

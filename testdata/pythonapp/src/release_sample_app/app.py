"""The HTTP service: /healthz and /version, standard library only."""

import json
import os
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import DIST_NAME, version


def version_info(environ=os.environ) -> dict:
    """What /version answers.

    "version" comes from the installed wheel's metadata (PEP 440, set at build time);
    the semver version and the revision come from the image's environment, which the
    Dockerfile fills from `release build`'s build args.
    """
    return {
        "name": DIST_NAME,
        "version": version(),
        "release_version": environ.get("RELEASE_VERSION", ""),
        "revision": environ.get("RELEASE_REVISION", ""),
    }


class Handler(BaseHTTPRequestHandler):
    """Routes GET requests; unknown paths are 404."""

    server_version = "release-sample-app"
    info: dict = {}

    def do_GET(self):  # noqa: N802 (the name is http.server's)
        if self.path == "/healthz":
            self._send(HTTPStatus.OK, "text/plain; charset=utf-8", b"ok\n")
        elif self.path == "/version":
            body = json.dumps(self.info, sort_keys=True).encode() + b"\n"
            self._send(HTTPStatus.OK, "application/json", body)
        elif self.path == "/":
            body = f"{self.info['name']} {self.info['version']}\n".encode()
            self._send(HTTPStatus.OK, "text/plain; charset=utf-8", body)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))


def make_server(host: str, port: int, info: dict) -> ThreadingHTTPServer:
    """A server bound to host:port (port 0 picks a free one) answering with info."""
    handler = type("BoundHandler", (Handler,), {"info": info})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> int:
    host = os.environ.get("HOST", "0.0.0.0")
    port = int(os.environ.get("PORT", "8000"))
    server = make_server(host, port, version_info())

    # As PID 1 in a container, SIGTERM has no default action: without a handler,
    # `docker stop` waits its whole timeout and then kills.
    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    bound_host, bound_port = server.server_address[:2]
    print(f"{DIST_NAME} {version()} listening on {bound_host}:{bound_port}",
          file=sys.stderr, flush=True)
    with server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

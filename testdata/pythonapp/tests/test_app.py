"""Unit tests of the service: PYTHONPATH=src python3 -m unittest discover -s tests."""

import json
import threading
import unittest
import urllib.error
import urllib.request

from release_sample_app import app


class ServiceTest(unittest.TestCase):
    def setUp(self):
        info = app.version_info({"RELEASE_VERSION": "1.2.0-rc.1", "RELEASE_REVISION": "a" * 40})
        info["version"] = "1.2.0rc1"  # what the installed wheel would report
        self.server = app.make_server("127.0.0.1", 0, info)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        host, port = self.server.server_address[:2]
        self.base = f"http://{host}:{port}"

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read()

    def test_healthz(self):
        self.assertEqual(self.get("/healthz"), (200, "text/plain; charset=utf-8", b"ok\n"))

    def test_version(self):
        status, ctype, body = self.get("/version")
        self.assertEqual((status, ctype), (200, "application/json"))
        self.assertEqual(json.loads(body), {
            "name": "release-sample-app",
            "version": "1.2.0rc1",
            "release_version": "1.2.0-rc.1",
            "revision": "a" * 40,
        })

    def test_unknown_path(self):
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            self.get("/nope")
        self.assertEqual(ctx.exception.code, 404)


class VersionInfoTest(unittest.TestCase):
    def test_empty_environment(self):
        info = app.version_info({})
        self.assertEqual(info["release_version"], "")
        self.assertEqual(info["revision"], "")
        self.assertEqual(info["name"], "release-sample-app")


if __name__ == "__main__":
    unittest.main()

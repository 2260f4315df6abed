"""`gpu-platform upstream fetch`, offline: a local HTTP server (127.0.0.1, in a thread) serves a
Helm repository (index.yaml + a chart tarball built here), an OCI registry that wants an anonymous
bearer token, and CRD files at a release tag; the fetch must lay them out as the conformance
tests read them, check every digest, and reuse a complete folder without any request."""

import functools
import hashlib
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from gpu_platform.plan import cli, upstream
from gpu_platform.plan.policy import PlanPolicy
from gpu_platform.plan.upstream import CrdSource, FetchError, fetch_upstream, pins_key
from gpu_platform.policy import POLICY
from gpu_platform.testing.conformance import Conformance
from gpu_platform.versions import ChartPin


def crd(group, kind, versions):
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.lower()}s.{group}"},
        "spec": {"group": group, "names": {"kind": kind, "plural": f"{kind.lower()}s"}, "scope": "Namespaced",
                 "versions": [{"name": v, "served": True, "storage": v == versions[-1], "schema": {
                     "openAPIV3Schema": {"type": "object", "properties": {
                         "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                         "metadata": {"type": "object"}, "spec": {
                         "type": "object", "properties": {"size": {"type": "integer"}}}}}}}
                     for v in versions]},
    }


def chart_tgz(name, version, values, crds=()):
    files = {
        f"{name}/Chart.yaml": yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version}),
        f"{name}/values.yaml": yaml.safe_dump(values),
        f"{name}/values.schema.json": json.dumps({"type": "object", "additionalProperties": False,
                                                  "properties": {key: {} for key in values}}),
        f"{name}/templates/cm.yaml": "kind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n",
        **{f"{name}/crds/{doc['spec']['names']['plural']}.yaml": yaml.safe_dump(doc) for doc in crds},
        f"{name}/crds/notes.yaml": "{{ if .Values.x }}\nnot: plain yaml\n{{ end }}\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        evil = tarfile.TarInfo("../escape.txt")  # never written outside the chart folder
        evil.size = 1
        archive.addfile(evil, io.BytesIO(b"x"))
    return buffer.getvalue()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Fixture:
    """What the server serves, and which paths were requested."""

    def __init__(self):
        self.demo = chart_tgz("demo", "1.2.3", {"replicas": 1, "image": {"tag": "v1"}},
                              crds=[crd("example.com", "Widget", ["v1alpha1", "v1"])])
        self.oci = chart_tgz("ocidemo", "0.3.0", {"enabled": True})
        self.gadgets = yaml.safe_dump(crd("acme.io", "Gadget", ["v2"])).encode()
        self.requests = []
        self.routes = {}
        self.redirects = {}

    def build(self, base):
        index = {"apiVersion": "v1", "entries": {"demo": [
            {"version": "1.3.0", "urls": ["demo-1.3.0.tgz"], "digest": "0" * 64},
            {"version": "1.2.3", "urls": ["demo-1.2.3.tgz"], "digest": sha(self.demo)},
        ]}}
        manifest = {"schemaVersion": 2, "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json"},
                    "layers": [{"mediaType": upstream.HELM_LAYER, "digest": f"sha256:{sha(self.oci)}"}]}
        self.routes = {
            "/charts/index.yaml": yaml.safe_dump(index).encode(),
            "/charts/demo-1.2.3.tgz": self.demo,
            "/v2/acme/charts/ocidemo/manifests/0.3.0": json.dumps(manifest).encode(),
            "/token?service=fixture&scope=repository%3Aacme%2Fcharts%2Focidemo%3Apull":
                json.dumps({"token": "t0k"}).encode(),
            "/raw/acme/operator/v2.0.0/config/crd/acme.io_gadgets.yaml": self.gadgets,
        }
        self.base = base
        # the blob is served from another host (localhost, not 127.0.0.1), which must get no token
        self.redirects = {f"/v2/acme/charts/ocidemo/blobs/sha256:{sha(self.oci)}":
                          f"{base.replace('127.0.0.1', 'localhost')}/blobstore/{sha(self.oci)}"}


@pytest.fixture
def server():
    fixture = Fixture()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            fixture.requests.append(self.path)
            if self.path.startswith("/blobstore/"):  # signed storage, as ghcr.io redirects blobs to
                body = fixture.oci if self.headers.get("Authorization") is None else b"token leaked"
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)
                return
            redirect = fixture.redirects.get(self.path)
            if redirect and self.headers.get("Authorization") == "Bearer t0k":
                self.send_response(307)
                self.send_header("Location", redirect)
                self.end_headers()
                return
            needs_token = self.path.startswith("/v2/")
            if needs_token and self.headers.get("Authorization") != "Bearer t0k":
                self.send_response(401)
                self.send_header("WWW-Authenticate", f'Bearer realm="{fixture.base}/token",service="fixture",'
                                 'scope="repository:acme/charts/ocidemo:pull"')
                self.end_headers()
                return
            body = fixture.routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fixture.build(f"http://127.0.0.1:{httpd.server_port}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield fixture
    httpd.shutdown()
    httpd.server_close()


def pins(fixture):
    host = fixture.base.removeprefix("http://")
    charts = [
        ChartPin(f"{fixture.base}/charts", "demo", "1.2.3", "https://github.com/acme/demo/blob/v1.2.3/Chart.yaml",
                 "2026-01-01"),
        ChartPin(f"oci://{host}/acme/charts", "ocidemo", "0.3.0", "https://github.com/acme/o/blob/v0.3.0/x",
                 "2026-01-01"),
    ]
    crds = [CrdSource("acme/operator", "v2.0.0", ("config/crd/acme.io_gadgets.yaml",))]
    return charts, crds


def fetch(fixture, tmp_path, **changes):
    charts, crds = pins(fixture)
    options = {"charts": charts, "crds": crds, "raw_base": f"{fixture.base}/raw", "plain_http": True}
    return fetch_upstream(tmp_path / "cache", **{**options, **changes})


def test_fetches_charts_and_crds_into_the_shared_layout(server, tmp_path):
    result = fetch(server, tmp_path)
    root = result.root
    assert root == tmp_path / "cache" / pins_key(*pins(server)) and not result.cached
    assert (root / "charts-src/demo/templates/cm.yaml").is_file()
    assert yaml.safe_load((root / "charts/demo/Chart.yaml").read_text())["version"] == "1.2.3"
    assert sorted(p.name for p in (root / "charts/demo").iterdir()) == [
        "Chart.yaml", "values.schema.json", "values.yaml"]
    assert yaml.safe_load((root / "charts/ocidemo/values.yaml").read_text()) == {"enabled": True}
    assert not (tmp_path / "cache" / "escape.txt").exists() and not (root / "escape.txt").exists()
    assert sorted(str(p.relative_to(root)) for p in root.glob("crds/*/*.json")) == [
        "crds/acme.io/Gadget_v2.json", "crds/example.com/Widget_v1.json",
        "crds/example.com/Widget_v1alpha1.json",
    ]
    assert sorted(p.name for p in (root / "crd-yaml").iterdir()) == ["acme.io_gadgets.yaml", "widgets.yaml"]
    sources = json.loads((root / "sources.json").read_text())
    assert [(s.get("chart") or s.get("crd"), s["sha256"]) for s in sources["fetched"]] == [
        ("demo", sha(server.demo)), ("ocidemo", sha(server.oci)),
        ("acme.io_gadgets.yaml", sha(server.gadgets)),
    ]
    assert sources["skipped"][0]["crd"] == "charts-src/demo/crds/notes.yaml"
    # the token was asked for once, after the registry's 401; the blob came from the host the
    # registry redirected to, without the token (else its body, and so its digest, differs)
    assert sum(path.startswith("/token") for path in server.requests) == 1
    assert f"/blobstore/{sha(server.oci)}" in server.requests


def test_the_conformance_checks_read_the_fetched_folder(server, tmp_path):
    root = fetch(server, tmp_path).root
    checks = Conformance(root)
    assert checks.validate_helm_values("demo", {"replicas": 2, "image": {"tag": "v2"}}) == []
    assert checks.validate_helm_values("demo", {"replica": 2}) != []
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"size": 1}}
    assert checks.validate_object(widget) == []
    assert checks.validate_object({**widget, "spec": {"sise": 1}}) != []


def test_a_complete_folder_is_reused_without_any_request(server, tmp_path):
    first = fetch(server, tmp_path)
    server.requests.clear()
    again = fetch(server, tmp_path)
    assert (again.root, again.cached, server.requests) == (first.root, True, [])
    assert again.sources == first.sources
    other = fetch(server, tmp_path, charts=pins(server)[0][:1])  # other pins: another folder
    assert other.root != first.root and not other.cached


def test_a_pin_missing_from_the_index_fails(server, tmp_path):
    charts, _ = pins(server)
    missing = [ChartPin(charts[0].repository, "demo", "9.9.9", charts[0].source, "2026-01-01")]
    with pytest.raises(FetchError) as caught:
        fetch(server, tmp_path, charts=missing, crds=[])
    assert str(caught.value) == (
        f"chart demo 9.9.9: not in {server.base}/charts/index.yaml (2 versions listed)")


def test_a_tarball_that_does_not_match_its_digest_fails(server, tmp_path):
    server.routes["/charts/demo-1.2.3.tgz"] = server.oci
    with pytest.raises(FetchError) as caught:
        fetch(server, tmp_path, crds=[])
    assert str(caught.value).startswith(f"chart demo 1.2.3: {server.base}/charts/demo-1.2.3.tgz has sha256 ")
    assert not (tmp_path / "cache" / pins_key(*pins(server)[:1], []) / upstream.COMPLETE).exists()


def test_a_missing_crd_fails_with_its_url(server, tmp_path):
    bad = [CrdSource("acme/operator", "v9", ("nope.yaml",))]
    with pytest.raises(FetchError) as caught:
        fetch(server, tmp_path, crds=bad)
    assert str(caught.value) == f"GET {server.base}/raw/acme/operator/v9/nope.yaml: HTTP 404 Not Found"


def test_cli_prints_the_folder_for_gpu_platform_upstream(server, tmp_path, monkeypatch, capsys):
    charts, crds = pins(server)
    monkeypatch.setattr(cli, "default_policy", lambda: PlanPolicy(
        "fixture", upstream_charts=tuple(charts), upstream_crds=tuple(crds)))
    monkeypatch.setattr(cli, "fetch_upstream", functools.partial(
        fetch_upstream, raw_base=f"{server.base}/raw", plain_http=True))
    assert cli.main(["upstream", "fetch", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr()
    assert out.out == f"{tmp_path / 'cache' / pins_key(charts, crds)}\n"
    assert "chart demo 1.2.3" in out.err
    server.routes.clear()
    assert cli.main(["upstream", "fetch", str(tmp_path / "other")]) == 1
    assert capsys.readouterr().err.startswith("error: GET ")


def test_the_real_pins_cover_every_chart_and_crd_source():
    charts = POLICY.upstream_charts
    assert {pin.chart for pin in charts} >= {"gpu-operator", "kuberay-operator", "kueue", "kserve-crd"}
    urls = [url for source in POLICY.upstream_crds for url in source.urls()]
    assert "https://raw.githubusercontent.com/ray-project/kuberay/v1.7.0/ray-operator/config/crd/bases/" \
        "ray.io_rayclusters.yaml" in urls
    assert len(pins_key(charts, POLICY.upstream_crds)) == 16

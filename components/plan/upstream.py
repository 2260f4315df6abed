"""``gpu-platform upstream fetch DIR``: the upstream truth at exactly the pinned versions.

The conformance tests read upstream chart values and CRD schemas from a folder
(``GPU_PLATFORM_UPSTREAM``). On a hosted CI runner there is none, so this module downloads it,
with the standard library only:

- every Helm chart the plan policy names (this library's: the pins in ``gpu_platform.versions``,
  ``gpu_platform.policy``) as ``helm pull`` does it: the repository's
  ``index.yaml``, the entry whose version is the pin, its tarball (sha256 checked against the
  index's ``digest``). ``oci://`` charts go through the registry's HTTP API (OCI distribution
  spec: manifest, then the ``application/vnd.cncf.helm.chart.content.v1.tar+gzip`` layer, with the
  anonymous bearer token a public registry hands out on a 401), digest checked;
- each operator's CRDs from its release tag (``raw.githubusercontent.com/<repo>/<tag>/<path>``),
  plus every CRD a chart ships in a ``crds/`` folder.

The result is laid out like the shared upstream folder (``SOURCES.md`` there): ``charts-src/<chart>/``
(whole chart), ``charts/<chart>/`` (Chart.yaml, values.yaml, values.schema.json), ``crd-yaml/`` and
``crds/<group>/<Kind>_<version>.json`` (each version's ``openAPIV3Schema``). It lands in
``DIR/<key>/``, ``key`` being a hash of the pin list, and ``sources.json`` there records each URL
and sha256. A folder that is complete for the same pins is reused without any download, so CI can
cache ``DIR`` keyed by the same pins.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import yaml

from gpu_platform.config.yamlio import SafeLoader

RAW_GITHUB = "https://raw.githubusercontent.com"
HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
COMPLETE = ".complete"
TIMEOUT = 60
MAX_REDIRECTS = 5


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx surfaces as HTTPError: registry_get decides what to send where


_NO_REDIRECTS = urllib.request.build_opener(_KeepRedirects)
DEFAULT_CACHE_NOTE = "A folder already fetched for the same pins is reused (no download)."


class _Loader(SafeLoader):
    """Safe YAML, with libyaml when present (CRD files run to megabytes), reading YAML 1.1's
    ``=`` (value) scalar as the string it is in Kubernetes enums (prometheus-operator's CRDs)."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


class ChartSource(Protocol):
    """A pinned Helm chart (the library's ``versions.ChartPin`` is one)."""

    @property
    def chart(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def repository(self) -> str: ...


class FetchError(RuntimeError):
    """A download failed or did not match its pin (reported without traceback, exit 1)."""


@dataclass(frozen=True)
class CrdSource:
    """CRD files of one operator at its release tag in a GitHub repository."""

    repository: str  # owner/name
    ref: str  # the release tag matching the pin
    paths: tuple[str, ...]

    def urls(self, raw_base: str = RAW_GITHUB) -> list[str]:
        return [f"{raw_base}/{self.repository}/{self.ref}/{path}" for path in self.paths]


def pins_key(charts: Sequence[ChartSource], crds: Sequence[CrdSource]) -> str:
    """A short hash of the pin list: the cache folder's name (and CI's cache key)."""
    document = {"charts": [[pin.chart, pin.version, pin.repository] for pin in charts],
                "crds": [asdict(source) for source in crds]}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class FetchResult:
    root: Path
    cached: bool
    sources: list[dict[str, str]] = field(default_factory=list)  # what was fetched, with sha256
    skipped: list[dict[str, str]] = field(default_factory=list)  # what was not, with the reason


def fetch_upstream(
    cache_dir: Path,
    *,
    charts: Sequence[ChartSource],
    crds: Sequence[CrdSource],
    raw_base: str = RAW_GITHUB,
    plain_http: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> FetchResult:
    """Fetch every chart and CRD into ``cache_dir/<pins key>/`` (reused when already complete).

    ``plain_http`` talks to OCI registries over http (a local test registry, as ``helm
    --plain-http``); ``raw_base`` replaces raw.githubusercontent.com (tests serve a fixture).
    """
    charts, crds = list(charts), list(crds)
    root = cache_dir / pins_key(charts, crds)
    if (root / COMPLETE).is_file():
        recorded = json.loads((root / "sources.json").read_text())
        log(f"upstream: {root} is complete for these pins; nothing to fetch")
        return FetchResult(root, True, recorded["fetched"], recorded["skipped"])
    if root.exists():
        shutil.rmtree(root)  # an interrupted fetch: start over
    root.mkdir(parents=True)
    result = FetchResult(root, False)
    client = _Client(plain_http)
    for pin in charts:
        url, data = _pull_chart(client, pin)
        result.sources.append({"chart": pin.chart, "version": pin.version, "url": url, "sha256": _sha(data)})
        _unpack_chart(pin.chart, data, root)
        log(f"chart {pin.chart} {pin.version}: {url}")
    for crd_file in sorted(root.glob("charts-src/*/**/crds/*.yaml")):
        origin = str(crd_file.relative_to(root))
        try:
            _write_crds(crd_file.read_bytes(), crd_file.name, root, origin)
        except FetchError as exc:  # a templated file in crds/ is not plain YAML
            result.skipped.append({"crd": origin, "reason": str(exc)})
    for source in crds:  # after the charts' copies: the release tag's file wins
        for url in source.urls(raw_base):
            data = client.get(url)
            name = PurePosixPath(urllib.parse.urlparse(url).path).name
            _write_crds(data, name, root, url)
            result.sources.append({"crd": name, "ref": source.ref, "url": url, "sha256": _sha(data)})
            log(f"crd {name} @ {source.ref}")
    (root / "sources.json").write_text(json.dumps(
        {"key": root.name, "fetched": result.sources, "skipped": result.skipped}, indent=2) + "\n")
    (root / COMPLETE).write_text("")
    return result


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Client:
    """GETs with a timeout and, for OCI registries, the anonymous bearer-token dance."""

    def __init__(self, plain_http: bool):
        self.plain_http = plain_http
        self.tokens: dict[tuple[str, str], str] = {}  # (host, repository) -> bearer token

    def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "gpu-platform", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise FetchError(f"GET {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(f"GET {url}: {getattr(exc, 'reason', exc)}") from None

    def registry_get(self, registry: str, name: str, path: str, accept: str) -> bytes:
        """GET ``/v2/<name>/<path>``, following redirects by hand: a bearer token is sent only to
        the host that asked for it (registry.k8s.io redirects to a regional registry that does;
        ghcr.io redirects blobs to signed storage URLs that must not get it)."""
        scheme = "http" if self.plain_http else "https"
        url = f"{scheme}://{registry}/v2/{name}/{path}"
        for _hop in range(MAX_REDIRECTS):
            host = urllib.parse.urlparse(url).netloc
            headers = {"User-Agent": "gpu-platform", "Accept": accept}
            token = self.tokens.get((host, name))
            if token:
                headers["Authorization"] = f"Bearer {token}"
            request = urllib.request.Request(url, headers=headers)
            try:
                with _NO_REDIRECTS.open(request, timeout=TIMEOUT) as reply:
                    return bytes(reply.read())
            except urllib.error.HTTPError as exc:
                challenge = exc.headers.get("WWW-Authenticate", "")
                if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                    url = urllib.parse.urljoin(url, exc.headers["Location"])
                elif exc.code == 401 and challenge.startswith("Bearer ") and token is None:
                    self.tokens[(host, name)] = self._token(challenge, name)
                else:
                    raise FetchError(f"GET {url}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError) as exc:
                raise FetchError(f"GET {url}: {getattr(exc, 'reason', exc)}") from None
        raise FetchError(f"GET {url}: more than {MAX_REDIRECTS} redirects")

    def _token(self, challenge: str, name: str) -> str:
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        if "realm" not in fields:
            raise FetchError(f"registry for {name}: bearer challenge without realm: {challenge}")
        query = {key: fields[key] for key in ("service", "scope") if key in fields}
        query.setdefault("scope", f"repository:{name}:pull")
        reply = json.loads(self.get(f"{fields['realm']}?{urllib.parse.urlencode(query)}"))
        token = reply.get("token") or reply.get("access_token")
        if not token:
            raise FetchError(f"registry for {name}: no token in the token service's reply")
        return str(token)


def _pull_chart(client: _Client, pin: ChartSource) -> tuple[str, bytes]:
    if pin.repository.startswith("oci://"):
        return _pull_oci(client, pin)
    repository = pin.repository.rstrip("/") + "/"
    index = yaml.load(client.get(repository + "index.yaml"), Loader=_Loader) or {}
    entries = (index.get("entries") or {}).get(pin.chart) or []
    matches = [e for e in entries if str(e.get("version", "")).lstrip("v") == pin.version.lstrip("v")]
    if not matches:
        raise FetchError(f"chart {pin.chart} {pin.version}: not in {repository}index.yaml "
                         f"({len(entries)} versions listed)")
    entry = matches[0]
    url = urllib.parse.urljoin(repository, entry["urls"][0])
    data = client.get(url)
    digest = entry.get("digest")
    if digest and _sha(data) != digest:
        raise FetchError(f"chart {pin.chart} {pin.version}: {url} has sha256 {_sha(data)}, "
                         f"index.yaml says {digest}")
    return url, data


def _pull_oci(client: _Client, pin: ChartSource) -> tuple[str, bytes]:
    registry, _, namespace = pin.repository.removeprefix("oci://").partition("/")
    name = f"{namespace}/{pin.chart}".strip("/")
    tag = pin.version.replace("+", "_")  # helm's tag for a version with build metadata
    manifest = json.loads(client.registry_get(registry, name, f"manifests/{tag}", OCI_MANIFEST))
    layers = [layer for layer in manifest.get("layers", []) if layer.get("mediaType") == HELM_LAYER]
    if not layers:
        raise FetchError(f"chart {pin.chart} {pin.version}: the manifest in {pin.repository} has no chart")
    digest = layers[0]["digest"]
    data = client.registry_get(registry, name, f"blobs/{digest}", HELM_LAYER)
    if f"sha256:{_sha(data)}" != digest:
        raise FetchError(f"chart {pin.chart} {pin.version}: blob does not match its digest {digest}")
    return f"{pin.repository}/{pin.chart}:{tag}", data


def _unpack_chart(chart: str, data: bytes, root: Path) -> None:
    """Extract a chart tarball (its top folder stripped) to charts-src/<chart>/, and copy its
    Chart.yaml, values.yaml and values.schema.json to charts/<chart>/."""
    target = root / "charts-src" / chart
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            parts = PurePosixPath(member.name).parts
            if len(parts) < 2 or member.name.startswith("/") or ".." in parts:
                continue  # the top folder itself, or an unsafe path
            if not (member.isfile() or member.isdir()):
                continue  # links and devices have no place in a chart
            destination = target.joinpath(*parts[1:])
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            extracted = archive.extractfile(member)
            destination.write_bytes(extracted.read() if extracted else b"")
    if not (target / "Chart.yaml").is_file():
        raise FetchError(f"chart {chart}: the tarball has no <chart>/Chart.yaml")
    summary = root / "charts" / chart
    summary.mkdir(parents=True)
    for name in ("Chart.yaml", "values.yaml", "values.schema.json"):
        if (target / name).is_file():
            shutil.copyfile(target / name, summary / name)


def _write_crds(data: bytes, name: str, root: Path, origin: str) -> None:
    """Keep the CRD file in crd-yaml/ and each version's openAPIV3Schema in crds/<group>/."""
    try:
        documents = [d for d in yaml.load_all(data, Loader=_Loader) if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        raise FetchError(f"{origin}: not YAML: {exc}") from None
    crds = [d for d in documents if d.get("kind") == "CustomResourceDefinition"]
    if not crds:
        return  # a Helm template or another object kept in crds/: not a CRD file
    (root / "crd-yaml").mkdir(exist_ok=True)
    (root / "crd-yaml" / name).write_bytes(data)
    for crd in crds:
        spec: dict[str, Any] = crd.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if kind and schema:
                folder = root / "crds" / spec["group"]
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{kind}_{version['name']}.json").write_text(json.dumps(schema, indent=1) + "\n")

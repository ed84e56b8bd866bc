"""Evidence on S3-compatible object storage (through fsspec/s3fs), tested against moto's server mode.

At scale every crawl process on every machine writes its snapshots to one bucket
(``PRICEWARDEN_EVIDENCE_URL=s3://bucket/prefix``). Here a real S3 API server (moto, in a thread on
127.0.0.1, ephemeral port) takes the blobs of a real crawl: forked crawl processes write them,
the store reads them back verified by SHA-256, and no half-written object is left behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from crawlers.run import run_crawl
from crawlers.targets import Target
from store import Evidence, Observation, session_scope
from store.evidence import EvidenceStore, sha256_of

BUCKET = "pw-evidence"
PAGE = ('<!doctype html><html><head><meta charset="utf-8"><title>Acme {n}</title>'
        '<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product","name":"Acme {n}",'
        '"offers":{{"@type":"Offer","price":"{n}.99","priceCurrency":"USD"}}}}</script></head>'
        '<body><h1>Acme {n}</h1><span class="price">${n}.99</span><button>Add to cart</button></body></html>')


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto S3 server on 127.0.0.1 with an empty bucket; AWS_* set for this process and its children."""
    pytest.importorskip("s3fs")
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


@pytest.fixture
def shop() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            found = self.path.startswith("/p/")
            body = PAGE.format(n=int(self.path[3:]) + 10).encode() if found else b""
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_crawl_stores_its_evidence_in_an_s3_bucket_and_reads_it_back_verified(
    db: Any, s3: Any, shop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_EVIDENCE_URL", f"s3://{BUCKET}/evidence")
    get_settings.cache_clear()
    pages = 6
    run_crawl([Target(url=f"{shop}/p/{n}") for n in range(pages)], shards=2,
              at=datetime(2026, 3, 2, 8, tzinfo=UTC), browser=False)

    store = EvidenceStore.from_settings()
    with session_scope(db) as session:
        observations = session.scalars(select(Observation)).all()
        evidence = {e.sha256: e for e in session.scalars(select(Evidence))}
    assert len(observations) == pages and len(evidence) == pages
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
    # One compressed object per page, named by its SHA-256; no temporary object left behind.
    assert keys == sorted(f"evidence/{sha[:2]}/{sha}.zst" for sha in evidence)
    for obs in observations:
        row = evidence[obs.html_sha256]
        assert row.location == f"s3://{BUCKET}/evidence/{row.sha256[:2]}/{row.sha256}.zst"
        html = store.get(row.sha256)
        assert sha256_of(html) == row.sha256 and f"Acme {int(obs.price)}".encode() in html

    # A blob changed in the bucket is refused, never served as evidence.
    sha = next(iter(evidence))
    s3.put_object(Bucket=BUCKET, Key=f"evidence/{sha[:2]}/{sha}.zst", Body=b"\x28\xb5\x2f\xfd\x20\x01\x09\x00\x00x")
    with pytest.raises(Exception, match=sha[:12]):
        store.get(sha)

"""speech.download: a model download shows its progress and resumes where it broke off."""

from __future__ import annotations

import hashlib
import random
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from speech.errors import ModelInstallError
from speech.models import install_model, is_model_dir, read_locale_map
from tests.speech.test_models import leftovers, make_model_zip

NAME = "vosk-model-small-cn-0.22"
BIG = 3_000_000  # bytes of noise in the model, so the download takes several blocks


@dataclass
class RangeServer:
    """A model server that honours Range and If-Range, and can break a download off."""

    root: Path
    url: str = ""
    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes sent, once
    ignore_range: bool = False
    asked: list[str | None] = field(default_factory=list)  # the Range header of each GET
    sent: list[int] = field(default_factory=list)  # body bytes sent per GET


def _handler(server: RangeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            file = server.root / self.path.lstrip("/")
            if not file.is_file():
                self.send_error(404)
                return
            data = file.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            asked = self.headers.get("Range")
            if self.path.endswith(".zip"):
                server.asked.append(asked)
            honour = asked and not server.ignore_range
            if honour and self.headers.get("If-Range", etag) != etag:
                honour = False  # the file changed: the whole new file
            start = int(asked.removeprefix("bytes=").rstrip("-")) if honour and asked else 0
            if start >= len(data) > 0:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data) - start))
            self.send_header("ETag", etag)
            self.end_headers()
            body = data[start:][: server.cut_after.pop(self.path, len(data))]
            self.wfile.write(body)  # fewer bytes than announced when cut: the client sees a break
            if self.path.endswith(".zip"):
                server.sent.append(len(body))

    return Handler


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[RangeServer]:
    state = RangeServer(tmp_path / "www")
    state.root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def big_model_zip(path: Path, top: str) -> bytes:
    archive = make_model_zip(path, top)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{top}/am/noise.bin", random.Random(0).randbytes(BIG))
    return archive.read_bytes()


def test_an_interrupted_download_is_resumed_from_where_it_stopped(
    server: RangeServer, tmp_path: Path
) -> None:
    data = big_model_zip(server.root / f"{NAME}.zip", NAME)
    server.cut_after[f"/{NAME}.zip"] = 2_500_000
    models = tmp_path / "models"

    with pytest.raises(ModelInstallError, match="run the same command again to resume"):
        install_model(NAME, models_dir=models, index_url=server.url, locale="zh-CN")
    part = models / ".downloads" / f"{NAME}.zip.part"
    kept = part.stat().st_size
    assert 0 < kept < len(data)
    assert part.read_bytes() == data[:kept]
    assert not (models / NAME).exists()

    seen: list[tuple[int, int | None]] = []
    installed = install_model(
        NAME,
        models_dir=models,
        index_url=server.url,
        locale="zh-CN",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert server.asked == [None, f"bytes={kept}-"]
    assert server.sent[-1] == len(data) - kept  # only the rest came the second time
    assert installed.sha256 == hashlib.sha256(data).hexdigest()
    assert is_model_dir(installed.path) and read_locale_map(models) == {"zh-CN": NAME}
    assert seen[0] == (kept, len(data)) and seen[-1] == (len(data), len(data))
    assert leftovers(models) == ["installed.json", "locales.json", NAME]  # no .part left


def test_a_server_that_ignores_range_sends_the_whole_file_again(
    server: RangeServer, tmp_path: Path
) -> None:
    data = big_model_zip(server.root / f"{NAME}.zip", NAME)
    server.cut_after[f"/{NAME}.zip"] = 1_500_000
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError):
        install_model(NAME, models_dir=models, index_url=server.url)
    server.ignore_range = True
    installed = install_model(NAME, models_dir=models, index_url=server.url)
    assert server.sent[-1] == len(data)
    assert installed.sha256 == hashlib.sha256(data).hexdigest()


def test_a_changed_file_is_not_glued_to_the_old_part(server: RangeServer, tmp_path: Path) -> None:
    big_model_zip(server.root / f"{NAME}.zip", NAME)
    server.cut_after[f"/{NAME}.zip"] = 2_000_000
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError):
        install_model(NAME, models_dir=models, index_url=server.url)
    newer = make_model_zip(server.root / f"{NAME}.zip", NAME, marker="newer").read_bytes()
    installed = install_model(NAME, models_dir=models, index_url=server.url)
    assert server.sent[-1] == len(newer)  # If-Range no longer matched: the whole new file
    assert (installed.path / "am" / "final.mdl").read_text().startswith("newer")


def test_a_complete_part_is_installed_without_downloading_again(
    server: RangeServer, tmp_path: Path
) -> None:
    data = big_model_zip(server.root / f"{NAME}.zip", NAME)
    models = tmp_path / "models"
    downloads = models / ".downloads"
    downloads.mkdir(parents=True)
    (downloads / f"{NAME}.zip.part").write_bytes(data)  # the install after it was cut short
    (downloads / f"{NAME}.zip.part.json").write_text(
        f'{{"url": "{server.url}/{NAME}.zip", "validator": ""}}'
    )
    installed = install_model(NAME, models_dir=models, index_url=server.url)
    assert server.sent == []  # 416: nothing more to send
    assert is_model_dir(installed.path)


def test_a_corrupt_download_is_deleted_so_the_next_one_starts_afresh(
    server: RangeServer, tmp_path: Path
) -> None:
    (server.root / f"{NAME}.zip").write_bytes(b"not a zip at all" * 1000)
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="not a valid ZIP"):
        install_model(NAME, models_dir=models, index_url=server.url)
    assert leftovers(models) == []


def test_an_unreachable_server_says_so_in_a_few_words(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError) as caught:
        install_model(NAME, models_dir=tmp_path / "models", index_url="http://127.0.0.1:9")
    assert "cannot reach 127.0.0.1 (no network?)" in str(caught.value)
    assert "Traceback" not in str(caught.value) and "HTTPConnectionPool" not in str(caught.value)
    assert leftovers(tmp_path / "models") == []

"""speech.models: resolving a locale's model, and installing models safely."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from speech.errors import ModelInstallError, ModelMissing
from speech.models import (
    bundled_model_path,
    install_model,
    installed_models,
    is_model_dir,
    locale_env_var,
    model_problems,
    model_sample_rate,
    normalise_locale,
    read_locale_map,
    resolve_model_path,
)
from tests.speech.conftest import ModelServer, write_fake_model

NAME = "vosk-model-small-cn-0.22"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_model_zip(zip_path: Path, top: str | None, *, marker: str = "fake") -> Path:
    """A ZIP laid out like Vosk's: one top-level folder (``top``) holding the model."""
    tree = zip_path.parent / f".tree-{zip_path.stem}"
    shutil.rmtree(tree, ignore_errors=True)
    write_fake_model(tree, marker=marker)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(tree.rglob("*")):
            if file.is_file():
                rel = file.relative_to(tree).as_posix()
                zf.write(file, f"{top}/{rel}" if top else rel)
    shutil.rmtree(tree)
    return zip_path


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(data))
    return data


def leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir()) if models_dir.exists() else []


# -- resolution -------------------------------------------------------------------------
def test_locale_names() -> None:
    assert locale_env_var("zh-CN") == "VOSK_MODEL_PATH_ZH_CN"
    assert locale_env_var("ko-kr") == "VOSK_MODEL_PATH_KO_KR"
    assert locale_env_var("en_US") == "VOSK_MODEL_PATH_EN_US"
    assert normalise_locale("ZH_cn") == "zh-CN"


def test_bundled_korean_model_is_the_fallback(data_dir: Path) -> None:
    path = resolve_model_path("ko-KR")
    assert path == bundled_model_path()
    assert is_model_dir(path)
    assert model_sample_rate(path) == 16_000


def test_no_model_for_other_locales_names_the_fix(data_dir: Path) -> None:
    with pytest.raises(ModelMissing) as caught:
        resolve_model_path("zh-CN")
    message = str(caught.value)
    assert "VOSK_MODEL_PATH_ZH_CN" in message
    assert "hotline speech install" in message
    assert caught.value.env_var == "VOSK_MODEL_PATH_ZH_CN"


@pytest.mark.parametrize(
    ("locale", "model"),
    [("zh-CN", "vosk-model-small-cn-0.22"), ("en-US", "vosk-model-small-en-us-0.15")],
)
def test_no_model_names_the_exact_command_for_that_locale(
    data_dir: Path, locale: str, model: str
) -> None:
    with pytest.raises(ModelMissing) as caught:
        resolve_model_path(locale)
    message = str(caught.value)
    assert f"'hotline speech install {locale}'" in message
    assert model in message
    assert "-cn-" not in message or locale == "zh-CN"  # English is not sent to the Chinese model


def test_resolution_order(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    general = write_fake_model(tmp_path / "general")
    mapped = write_fake_model(data_dir / "models" / "mapped-model")
    specific = write_fake_model(tmp_path / "specific")

    monkeypatch.setenv("VOSK_MODEL_PATH", str(general))
    assert resolve_model_path("ko-KR") == general  # beats the bundled model
    assert resolve_model_path("zh-CN") == general

    (data_dir / "models" / "locales.json").write_text(
        json.dumps({"ko-KR": "mapped-model"}), encoding="utf-8"
    )
    assert read_locale_map() == {"ko-KR": "mapped-model"}
    assert resolve_model_path("ko-KR") == data_dir / "models" / "mapped-model"
    assert resolve_model_path("ko-KR") == mapped
    assert resolve_model_path("zh-CN") == general

    monkeypatch.setenv("VOSK_MODEL_PATH_KO_KR", str(specific))
    assert resolve_model_path("ko-KR") == specific


def test_configured_but_missing_model_raises(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOSK_MODEL_PATH_KO_KR", str(tmp_path / "gone"))
    with pytest.raises(ModelMissing) as caught:
        resolve_model_path("ko-KR")
    message = str(caught.value)
    assert str(tmp_path / "gone") in message
    assert "VOSK_MODEL_PATH_KO_KR" in message
    assert "hotline speech install" in message

    incomplete = tmp_path / "incomplete"
    (incomplete / "am").mkdir(parents=True)
    (incomplete / "am" / "final.mdl").write_bytes(b"x")
    monkeypatch.setenv("VOSK_MODEL_PATH_KO_KR", str(incomplete))
    with pytest.raises(ModelMissing, match=r"conf/model\.conf"):
        resolve_model_path("ko-KR")

    monkeypatch.delenv("VOSK_MODEL_PATH_KO_KR")
    (data_dir / "models").mkdir(parents=True)
    (data_dir / "models" / "locales.json").write_text('{"ko-KR": "deleted"}', encoding="utf-8")
    with pytest.raises(ModelMissing, match=r"locales\.json"):
        resolve_model_path("ko-KR")


def test_model_problems_lists_what_is_missing(tmp_path: Path) -> None:
    assert model_problems(tmp_path / "nope") == [f"{tmp_path / 'nope'} does not exist"]
    model = write_fake_model(tmp_path / "m")
    assert model_problems(model) == []
    (model / "graph" / "HCLG.fst").unlink()
    assert any("HCLG.fst" in p for p in model_problems(model))
    (model / "graph" / "HCLr.fst").write_bytes(b"x")
    (model / "graph" / "Gr.fst").write_bytes(b"x")
    assert model_problems(model) == []
    (model / "am" / "final.mdl").write_bytes(b"")
    assert model_problems(model) == [f"{model} has no am/final.mdl"]


# -- installation -----------------------------------------------------------------------
def test_install_by_name_uses_the_model_list(
    server: ModelServer, data_dir: Path, tmp_path: Path
) -> None:
    archive = make_model_zip(server.root / f"{NAME}.zip", NAME)
    digest = sha256_of(archive)
    server.publish_list(
        [
            {
                "name": NAME,
                "lang": "cn",
                "url": f"{server.url}/{NAME}.zip",
                "md5": hashlib.md5(archive.read_bytes()).hexdigest(),
                "size": archive.stat().st_size,
            }
        ]
    )
    models_dir = data_dir / "models"
    installed = install_model(NAME, models_dir=models_dir, index_url=server.url)
    assert installed.name == NAME
    assert installed.path == models_dir / NAME
    assert installed.sha256 == digest
    assert installed.locale == "zh-CN"  # from the list's "lang": "cn"
    assert not installed.already_installed
    assert is_model_dir(installed.path)
    assert installed_models(models_dir)[NAME]["sha256"] == digest
    assert read_locale_map(models_dir) == {"zh-CN": NAME}
    assert resolve_model_path("zh-CN") == models_dir / NAME
    assert "/model-list.json" in server.requests
    assert leftovers(models_dir) == sorted(["installed.json", "locales.json", NAME])

    again = install_model(NAME, models_dir=models_dir, index_url=server.url, sha256=digest)
    assert again.already_installed
    assert again.sha256 == digest


def test_install_by_name_without_a_list_and_index_from_env(
    server: ModelServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_model_zip(server.root / "vosk-model-small-en-us-0.15.zip", "vosk-model-small-en-us-0.15")
    monkeypatch.setenv("HOTLINE_VOSK_MODELS_URL", server.url + "/")
    installed = install_model("vosk-model-small-en-us-0.15", locale="en-US")
    assert installed.path == data_dir / "models" / "vosk-model-small-en-us-0.15"
    assert installed.source == f"{server.url}/vosk-model-small-en-us-0.15.zip"
    assert resolve_model_path("en-US") == installed.path


def test_a_locale_installs_the_model_recommended_for_it(
    server: ModelServer, data_dir: Path
) -> None:
    make_model_zip(server.root / f"{NAME}.zip", NAME)
    installed = install_model("zh-cn", index_url=server.url)
    assert installed.name == NAME
    assert installed.locale == "zh-CN"
    assert resolve_model_path("zh-CN") == data_dir / "models" / NAME


def test_md5_from_the_list_is_checked(server: ModelServer, tmp_path: Path) -> None:
    make_model_zip(server.root / f"{NAME}.zip", NAME)
    server.publish_list([{"name": NAME, "lang": "cn", "md5": "0" * 32}])
    models_dir = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="MD5"):
        install_model(NAME, models_dir=models_dir, index_url=server.url)
    assert leftovers(models_dir) == []


def test_install_by_url_and_pinned_sha256(server: ModelServer, tmp_path: Path) -> None:
    archive = make_model_zip(server.root / "custom-model.zip", "custom-model")
    models_dir = tmp_path / "models"
    installed = install_model(
        f"{server.url}/custom-model.zip",
        models_dir=models_dir,
        locale="ko-KR",
        sha256=sha256_of(archive).upper(),
    )
    assert installed.path == models_dir / "custom-model"
    assert installed.locale == "ko-KR"
    assert is_model_dir(installed.path)


def test_sha256_mismatch_installs_nothing(server: ModelServer, tmp_path: Path) -> None:
    make_model_zip(server.root / f"{NAME}.zip", NAME)
    models_dir = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="SHA-256") as caught:
        install_model(NAME, models_dir=models_dir, index_url=server.url, sha256="ab" * 32)
    assert "not installed" in str(caught.value)
    assert leftovers(models_dir) == []
    with pytest.raises(ModelInstallError, match="SHA-256"):
        install_model(NAME, models_dir=models_dir, index_url=server.url, sha256="not-hex")


def test_download_errors(server: ModelServer, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="404"):
        install_model("no-such-model", models_dir=models_dir, index_url=server.url)
    (server.root / "junk.zip").write_bytes(b"this is not a zip")
    with pytest.raises(ModelInstallError, match="not a valid ZIP"):
        install_model(f"{server.url}/junk.zip", models_dir=models_dir)
    assert leftovers(models_dir) == []


def test_install_local_zip_is_idempotent_and_replaces_a_changed_model(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    first = make_model_zip(tmp_path / "my-model.zip", "my-model", marker="one")
    installed = install_model(str(first), models_dir=models_dir, locale="en-US")
    assert installed.path == models_dir / "my-model"
    assert installed.source == str(first)
    assert (installed.path / "am" / "final.mdl").read_text().startswith("one")
    assert install_model(str(first), models_dir=models_dir).already_installed

    second = make_model_zip(tmp_path / "v2" / "my-model.zip", "my-model", marker="two")
    replaced = install_model(str(second), models_dir=models_dir)
    assert not replaced.already_installed
    assert replaced.sha256 != installed.sha256
    assert (replaced.path / "am" / "final.mdl").read_text().startswith("two")
    assert installed_models(models_dir)["my-model"]["sha256"] == replaced.sha256
    assert leftovers(models_dir) == ["installed.json", "locales.json", "my-model"]


def test_zip_without_a_top_folder(tmp_path: Path) -> None:
    archive = make_model_zip(tmp_path / "flat-model.zip", None)
    installed = install_model(str(archive), models_dir=tmp_path / "models")
    assert installed.name == "flat-model"
    assert is_model_dir(installed.path)


@pytest.mark.parametrize("evil", ["../escaped.txt", "model/../../escaped.txt", "/tmp/abs.txt"])
def test_zip_slip_is_refused(tmp_path: Path, evil: str) -> None:
    archive = make_model_zip(tmp_path / "evil-model.zip", "evil-model")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(evil, "gotcha")
    models_dir = tmp_path / "deep" / "models"
    with pytest.raises(ModelInstallError, match="unsafe archive"):
        install_model(str(archive), models_dir=models_dir)
    assert leftovers(models_dir) == []
    assert not list(tmp_path.rglob("escaped.txt"))


def test_symlink_entries_are_refused(tmp_path: Path) -> None:
    archive = make_model_zip(tmp_path / "link-model.zip", "link-model")
    with zipfile.ZipFile(archive, "a") as zf:
        info = zipfile.ZipInfo("link-model/am/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ModelInstallError, match="unsafe archive"):
        install_model(str(archive), models_dir=tmp_path / "models")


def test_archive_without_a_model(tmp_path: Path) -> None:
    archive = tmp_path / "not-a-model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("not-a-model/readme.txt", "hello")
    models_dir = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="does not contain a Vosk model"):
        install_model(str(archive), models_dir=models_dir)
    assert leftovers(models_dir) == []


def test_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="does not exist"):
        install_model(str(tmp_path / "missing.zip"), models_dir=tmp_path / "m")
    with pytest.raises(ModelInstallError, match="neither"):
        install_model("bad name!", models_dir=tmp_path / "m")

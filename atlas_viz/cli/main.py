"""Command line: python -m atlas_viz validate | build | schema ..."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from atlas_viz.io.paths import data_dir
from atlas_viz.core.problems import DataError


def _progress(fraction: float, text: str) -> None:
    bar = "#" * int(fraction * 30)
    print(f"\r[{bar:<30}] {fraction:4.0%} {text:<60}", end="", file=sys.stderr, flush=True)
    if fraction >= 1:
        print(file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from atlas_viz.atlas import load_atlas

    atlas = load_atlas(args.data, place_results=False)
    res = atlas.catalog.results
    print(f"{len(res)} results loaded from {len(atlas.catalog.files)} files in {args.data}")
    if len(res):
        print("  by map type: " + ", ".join(f"{k} {v}" for k, v in res["map_type"].value_counts().items()))
        print(f"  relations: {int(res['relations'].map(len).sum())}")
    if atlas.stale:
        print("note: the terrain cache is missing or older than axes.yaml; run `python -m atlas_viz build`")
    from atlas_viz.cli.checks import metric_warnings

    for w in metric_warnings(args.data, atlas):  # predictions whose metric no run records: untested, not wrong
        print(f"warning: {w}")
    if atlas.problems:
        print(f"\n{len(atlas.problems)} problem(s):")
        for p in atlas.problems:
            print(f"  - {p}")
        return 1
    print("no problems")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from atlas_viz.terrain.axes import load_axes
    from atlas_viz.terrain.layout import build_layout, cached_layout, terrain_path

    axes = load_axes(Path(args.data) / "axes.yaml")
    if not args.force and cached_layout(args.data, axes) is not None:
        print(f"terrain is up to date ({terrain_path(args.data)}); use --force to rebuild")
        return 0
    layout, seconds = build_layout(args.data, axes, progress=_progress)
    print(f"built the terrain in {seconds:.1f} s: {len(layout.continent_keys_)} continents, "
          f"{len(layout.inner_keys_):,} inner combinations -> {terrain_path(args.data)}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from atlas_viz.terrain.axes import load_axes
    from atlas_viz.catalogue.schema import results_schema
    from atlas_viz.io.yamlio import atomic_write_text

    schema = results_schema(load_axes(Path(args.data) / "axes.yaml"))
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    out = Path(args.out) if args.out else Path(args.data) / "results.schema.json"
    atomic_write_text(out, text)
    print(f"wrote {out}")
    return 0


SUBCOMMANDS = {"add-result": "contribute", "import-runs": "runs", "compact-runs": "runs", "export": "export",
               "expeditions": "expeditions", "expedition": "expeditions", "check": "checks", "search": "search"}
"""The module under ``atlas_viz.cli`` that registers each subcommand: a command line naming one of them imports
only that module (``export`` and ``expeditions`` pull in pandas and the catalogue, which ``import-runs`` of a
million rows does not need); any other command line (help, a typo) registers every module."""


def _register(module: str, add) -> None:
    import importlib

    mod = importlib.import_module(f"atlas_viz.cli.{module}")
    if module == "runs":
        mod.add_import_runs(add)
    elif module == "expeditions":
        mod.register(add, _progress)
    else:
        mod.register(add)


def _wanted(argv: list[str] | None) -> list[str]:
    """The modules to register for this command line (see :data:`SUBCOMMANDS`)."""
    args = sys.argv[1:] if argv is None else argv
    first = next((a for a in args if not a.startswith("-")), None)
    if first in SUBCOMMANDS and "-h" not in args[:args.index(first)] and "--help" not in args[:args.index(first)]:
        return [SUBCOMMANDS[first]]
    return list(dict.fromkeys(SUBCOMMANDS.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas_viz", description="Atlas of deep learning tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--data", default=None, help="data directory (default: $ATLAS_DATA or the bundled data/)")
        p.set_defaults(func=func)
        return p

    add("validate", cmd_validate, "Check axes and catalogue; exit 1 listing every problem.")
    p = add("build", cmd_build, "Lay out the terrain with UMAP and cache it under DATA/cache/.")
    p.add_argument("--force", action="store_true", help="rebuild even if the cache matches the axes")
    p = add("schema", cmd_schema, "Write the JSON Schema of a results file (DATA/results.schema.json).")
    p.add_argument("--out", default=None, help="where to write it")
    for module in _wanted(argv):
        _register(module, add)
    args = parser.parse_args(argv)
    args.data = data_dir(args.data)
    try:
        return args.func(args)
    except DataError as err:
        print(f"{len(err.problems)} problem(s) make the data unusable:", file=sys.stderr)
        for p in err.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

"""python -m atlas_viz import-runs TABLE --mapping MAPPING.yaml [--data DIR] [--name NAME] [--append | --replace],
and python -m atlas_viz compact-runs SOURCE [--data DIR]."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from atlas_viz.runs.disk import slugify, source_dir, source_exists


def add_import_runs(add) -> None:
    """Register the subcommands with cli.main's ``add`` helper."""
    p = add("import-runs", cmd_import_runs,
            "Validate a run table (CSV or Parquet) with a mapping file, place its runs and store them under "
            "DATA/runs/<name>/; bad rows are reported with their line and reason, the good rows import.")
    p.add_argument("table", help="the run table: a CSV (any common text encoding) or a Parquet file")
    p.add_argument("--mapping", required=True, help="YAML file saying which column gives which axis and metric "
                                                    "(see data/runs/README.md)")
    p.add_argument("--name", default=None, help="folder name of the source (default: from source.name)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--append", action="store_true", help="add the runs to an existing source (a run whose id "
                                                         "is already stored is replaced)")
    how.add_argument("--replace", action="store_true", help="replace an existing source of the same name (without "
                                                          "--append or --replace an existing source is kept)")
    p.add_argument("--max-problems", type=int, default=60, help="how many problems to print (default 60)")
    p = add("compact-runs", cmd_compact_runs,
            "Fold the appended parts of a run source into its base table (appends do this on their own beyond "
            "a few dozen parts); safe while the app reads the source.")
    p.add_argument("source", help="the source's folder name under DATA/runs/")


def cmd_import_runs(args: argparse.Namespace) -> int:
    """Import one table; exit 0 when rows were stored (problems are printed), 1 when nothing could be."""
    from atlas_viz.runs.disk import save_runs
    from atlas_viz.runs.importer import import_table, source_meta
    from atlas_viz.runs.mapping import read_mapping
    from atlas_viz.terrain.axes import load_axes

    t0 = time.perf_counter()
    axes = load_axes(Path(args.data) / "axes.yaml")
    mapping, problems = read_mapping(args.mapping, axes)
    if mapping is None:
        print(f"the mapping cannot be used; {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    table = Path(args.table)
    if not table.is_file():
        print(f"error: {table} is not a file", file=sys.stderr)
        return 1
    slug = slugify(args.name or mapping.source.get("name") or table.stem)
    if source_exists(args.data, slug) and not (args.append or args.replace):
        print(f"error: a run source '{slug}' exists ({source_dir(args.data, slug)}); add --append to add these "
              f"runs to it, --replace to replace it, or --name to store them under another name", file=sys.stderr)
        return 1
    result = import_table(table, mapping, axes, table.name, categorical=True)
    shown = result.problems[: args.max_problems]
    if result.problems:
        print(f"{len(result.problems)} problem(s) in {table.name}:")
        for p in shown:
            print(f"  - {p}")
        if len(result.problems) > len(shown):
            print(f"  ... and {len(result.problems) - len(shown)} more (use --max-problems)")
    if not result.rows_imported:
        print(f"no run imported from {table.name} ({result.rows_read:,} rows read)", file=sys.stderr)
        return 1
    meta = source_meta(mapping, result, table.name,
                       {"command": "python -m atlas_viz import-runs " + " ".join(sys.argv[2:]) if sys.argv[1:2] ==
                        ["import-runs"] else "import-runs"})
    folder = save_runs(args.data, slug, result.stored, meta, append=args.append, unique_ids=True)
    print(f"imported {result.rows_imported:,} of {result.rows_read:,} runs from {table.name} into "
          f"{source_dir(args.data, slug)} in {time.perf_counter() - t0:.1f} s "
          f"({result.rows_skipped:,} skipped); the app shows them on its next load")
    return 0 if folder else 1


def cmd_compact_runs(args: argparse.Namespace) -> int:
    """Fold a source's parts into its base table; exit 1 when there is no such source."""
    if not source_exists(args.data, args.source):
        print(f"error: no run source '{args.source}' under {Path(args.data) / 'runs'}", file=sys.stderr)
        return 1
    from atlas_viz.runs.disk import compact_runs

    t0 = time.perf_counter()
    rows = compact_runs(args.data, args.source)
    print(f"compacted {source_dir(args.data, args.source)}: {rows:,} runs in one table "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0

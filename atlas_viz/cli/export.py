"""python -m atlas_viz export --format csv|bibtex|json [--data DIR] [--out FILE]."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from atlas_viz.catalogue.export import EXPORT_FORMATS, export_results
from atlas_viz.io.atomic import atomic_write_text


def register(add) -> None:
    """Register the subcommand with cli.main's ``add`` helper."""
    p = add("export", cmd_export,
            "Export every valid result of the catalogue as CSV (spreadsheet-safe), BibTeX or JSON: the same "
            "files as the app's download buttons.")
    p.add_argument("--format", required=True, choices=list(EXPORT_FORMATS), help="csv, bibtex or json")
    p.add_argument("--out", default=None, help="file to write (atomically); default: standard output")


def cmd_export(args: argparse.Namespace) -> int:
    """Write the export; problems of the catalogue go to standard error (their results are left out)."""
    from atlas_viz.catalogue.loader import load_catalog
    from atlas_viz.terrain.axes import load_axes

    catalog = load_catalog(args.data, load_axes(Path(args.data) / "axes.yaml"))
    text = export_results(catalog.results, args.format)
    if catalog.problems:
        print(f"{len(catalog.problems)} problem(s) in the catalogue; the results they make unusable are left "
              f"out (see `python -m atlas_viz validate`)", file=sys.stderr)
    if args.out:
        atomic_write_text(Path(args.out), text)
        print(f"wrote {len(catalog.results)} results as {args.format} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))  # UTF-8 whatever the locale; CSV keeps its CRLF rows
        sys.stdout.buffer.flush()
    return 0

"""``segml export``: the files a CRM, a mailing tool or billing imports, from a run or refresh."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from segml.cli._common import _key


def _export_args(p: argparse.ArgumentParser, what: str) -> None:
    """``--export DIR``, ``--export-format``, ``--excel-bom`` of ``segml run`` / ``refresh``."""
    p.add_argument("--export", type=Path, metavar="DIR", help=f"also write the CRM / billing "
                   f"exports of this {what} there (as segml export; docs/EXPORTS.md)")
    p.add_argument("--export-format", choices=["csv", "parquet", "xlsx"], default="csv",
                   help="format of the --export files (default csv)")
    p.add_argument("--excel-bom", action="store_true",
                   help="--export CSV in UTF-8 with a byte-order mark for Excel")


def _check_export_flags(args: argparse.Namespace) -> None:
    """Check ``--export`` and its options before any work."""
    from segml.errors import ConfigError
    from segml.export import check_export_target

    if args.export is not None:
        check_export_target(args.export, overwrite=args.force, fmt=args.export_format,
                            excel_bom=args.excel_bom)
    elif args.excel_bom or args.export_format != "csv":
        raise ConfigError("--excel-bom and --export-format apply to the --export files. Fix: "
                          "add --export DIR, or leave them out.")


def _export_after(args: argparse.Namespace, source: Path, **kwargs: Any) -> None:
    """Write ``--export`` from the folder just written (kwargs: previous, model, ...)."""
    from segml.export import export_folder

    res = export_folder(source, args.export, format=args.export_format,
                        excel_bom=args.excel_bom, overwrite=args.force, **kwargs)
    print(f"exports: {args.export}/ ({', '.join(p.name for p in res.files.values())}, "
          "export.json)")


def _cmd_export(args: argparse.Namespace) -> int:
    from segml.errors import ConfigError
    from segml.export import EXPORT_MARKER, check_export_target, export_folder, source_kind

    check_export_target(args.to, overwrite=args.force, fmt=args.format,
                        excel_bom=args.excel_bom)  # before any reading
    kind = source_kind(args.source)
    model = None
    if args.model is not None:
        if kind != "refresh":
            raise ConfigError(
                f"--model {args.model}: a {kind} folder carries its roles and actions, so the "
                "model would be ignored. Fix: leave --model out (model= in Python), or export "
                "a segml refresh folder.")
        from segml.persistence import load_model

        model = load_model(args.model, key=_key(args))
    res = export_folder(args.source, args.to, format=args.format, excel_bom=args.excel_bom,
                        previous=args.previous, previous_as_of=args.previous_as_of, model=model,
                        overwrite=args.force)
    print(res.summary())
    print(f"\nwrote {Path(args.to)}/ ({args.format}; export.json lists the files, "
          f"{EXPORT_MARKER} marks the folder)")
    return 0

"""``segml export``: the files a CRM, a mailing tool or billing imports, from a run or refresh."""

from __future__ import annotations

import argparse
from pathlib import Path

from segml.cli._common import _key


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

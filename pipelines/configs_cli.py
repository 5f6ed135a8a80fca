"""``photosieve configs``: the shipped ``--config`` profiles, by name.

    photosieve configs                    # each name and what it is for
    photosieve configs weekly > my.yaml   # one profile's text, to copy and edit

A shipped name works as ``--config NAME`` from any folder
(:mod:`photosieve.pipelines.profile_names`). No Beam needed.
"""

from __future__ import annotations

import argparse
import sys

from photosieve.pipelines import help_text, profile_names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve configs",
        description="List the shipped --config profiles, or print one to copy and edit (no Beam).",
        **help_text.parser_options("configs"),
    )
    parser.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help="Print this profile's text instead of the list. Default: list them all.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    profiles = profile_names.shipped()
    if args.name is not None:
        name = args.name.removesuffix(".yaml")
        if name not in profiles:
            parser.error(f"no shipped profile {args.name!r}; {profile_names.names_hint(profiles)}")
        with open(profiles[name], encoding="utf-8") as handle:
            sys.stdout.write(handle.read())
        return 0
    width = max(map(len, profiles), default=0)
    print("Shipped profiles (--config NAME from any folder, or --config PATH for your own):")
    for name, path in profiles.items():
        print(f"  {name:<{width}}  {profile_names.describe(path)}")
    print("\n'photosieve configs NAME' prints one, to copy and edit.")
    return 0

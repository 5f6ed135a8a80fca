"""The Flex Template's program: template parameters in, ``photosieve audit`` out.

Dataflow's Python template launcher runs this file (``FLEX_TEMPLATE_PYTHON_PY_FILE``
in ``configs/flex_template/Dockerfile``) with each template parameter as
``--name=value`` and the job's Beam options (``--runner``, ``--project``,
``--region``, ``--temp_location``, ``--sdk_container_image``...). Template
parameter names are identifiers (``suppress_list``) and every parameter has a
value (``--dihedral=true``), while photosieve's flags are hyphenated and its
switches take none: :func:`audit_argv` maps the one onto the other, and
passes everything else on unchanged, where ``photosieve audit`` hands Beam
options to Beam and refuses anything else with a usage error.

Not installed with the package: the Flex Template's Dockerfile copies it into
the launcher image, beside the installed photosieve it imports.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def _switch(value: str, name: str) -> bool:
    """A BOOLEAN template parameter's value."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SystemExit(f"template parameter {name}: expected true or false, not {value!r}")


def audit_argv(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """``photosieve audit``'s arguments for the launcher's ``argv``, given the audit's ``parser``.

    ``--suppress_list=X`` becomes ``--suppress-list=X`` when that is one of
    ``parser``'s flags; a switch's ``--dihedral=true`` becomes ``--dihedral``
    (``false``: left out; for ``--progress``-style pairs, ``--no-progress``).
    Arguments that are not the audit's flags (Beam options) pass unchanged.
    """
    actions = {flag: action for action in parser._actions for flag in action.option_strings}
    result = []
    for arg in argv:
        name, equals, value = arg.partition("=")
        flag = "--" + name.removeprefix("--").replace("_", "-")
        action = actions.get(flag)
        if not arg.startswith("--") or action is None or not equals:
            result.append(arg)
        elif isinstance(action, argparse.BooleanOptionalAction):
            on = _switch(value, name)
            result.append(flag if on else "--no-" + flag.removeprefix("--"))
        elif action.nargs == 0:  # store_true: present or absent
            if _switch(value, name):
                result.append(flag)
        else:
            result.append(f"{flag}={value}")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    from photosieve.pipelines import audit, cli

    args = list(sys.argv[1:] if argv is None else argv)
    cli.entry(["audit", "--no-progress", *audit_argv(args, audit.build_parser())])


if __name__ == "__main__":
    main()

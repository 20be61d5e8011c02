"""``envdrift plugins``: what is installed, what it provides, and what failed to load."""

from __future__ import annotations

import click

from envdrift.cli._options import format_option
from envdrift.cli._output import Output


@click.command()
@format_option("json: one document on stdout.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def plugins(output_format: str, as_json: bool) -> None:
    """List installed plugins, their distributions, vaults and load errors."""
    from envdrift.plugins import PluginRegistry

    infos = PluginRegistry().plugins()
    json_mode = as_json or output_format == "json"
    out = Output(json_mode=json_mode)
    if json_mode:
        out.document("plugins", {"plugins": [info.as_dict() for info in infos]}, exit_code=0)
        return
    rows = [
        [
            info.name,
            f"{info.distribution or '-'} {info.version or ''}".strip(),
            ", ".join(info.vaults) or "-",
            f"ERROR {info.error}" if info.error else ("built-in" if info.builtin else "ok"),
        ]
        for info in infos
    ]
    out.table(["PLUGIN", "DISTRIBUTION", "VAULTS", "STATUS"], rows)

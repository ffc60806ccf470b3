"""`postcli platforms [NAME]`: what each platform supports, generated from the platforms' specs."""

from __future__ import annotations

from typing import Any, Optional

import typer

from postcli.cli import completion
from postcli.cli._options import JsonOpt, text_value

# What a platform publishes, in the words `postcli platforms` uses (keys of its JSON "publish").
_PUBLISHES = {
    "text": "text",
    "images": "images",
    "video": "video",
    "thread": "thread",
    "first_comment": "first comment",
}


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    for unit, step in (("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000)):
        if n >= step:
            return f"{n / step:g} {unit}"
    return f"{n} B"


def _seconds(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return "—"
    return f"{low or 0:g}–{high:g} s" if high is not None else f"at least {low:g} s"


def _show_one(d: dict[str, Any]) -> None:
    from postcli import output

    pub, met, sig, lim = d["publish"], d["metrics"], d["signin"], d["limits"]
    title = f"{d['display_name']} ({d['name']})" + (" — SIMULATED" if d["simulated"] else "")
    rows = [
        ["what", d["summary"] or "—"],
        ["publishes", ", ".join(_PUBLISHES[k] for k in _PUBLISHES if pub[k]) or "—"],
        ["title / link", f"{pub['title']} / {pub['link']}"],
        [
            "text limit",
            f"{lim['max_text']} {lim['count_unit']}"
            + (f" (a URL counts {lim['url_weight']})" if lim["url_weight"] else ""),
        ],
        [
            "media",
            f"up to {lim['max_images']} images, {lim['max_videos']} video(s)"
            + (f", {lim['max_items']} items" if lim["max_items"] else ""),
        ],
        ["image / video size", f"{_size(lim['max_image_bytes'])} / {_size(lim['max_video_bytes'])}"],
        ["video length", _seconds(lim["min_video_seconds"], lim["max_video_seconds"])],
        [
            "media by public URL",
            _yes(lim["needs_public_media_url"])
            + (
                f" ({'/'.join(k + 's' for k in lim['public_media_kinds'])}: needs the S3 store)"
                if lim["needs_public_media_url"]
                else ""
            ),
        ],
        ["metrics reported", ", ".join(met["reported"]) or "none"],
        ["always null", ", ".join(met["always_null"]) or "—"],
        ["account metrics", ", ".join(met["account"]) or "—"],
        [
            "browser sign-in",
            (sig["kind"] + ("; your own app" if sig["own_app"] else "; no app needed")) if sig["browser"] else "no",
        ],
        [
            "connect with",
            f"postcli accounts add {d['name']}"
            + (f" ({d['connect']['credential']})" if d["connect"]["credential"] else ""),
        ],
        ["docs", d["docs"] or "—"],
    ]
    for f in pub["fields"]:
        rows.append([f"--field {f['key']}", ("|".join(f["values"]) if f["values"] else f["kind"]) + f": {f['help']}"])
    if met["note"]:
        rows.append(["note", met["note"]])
    output.kv([(k, v) for k, v in rows], title=title)


def platforms(
    name: Optional[str] = typer.Argument(
        None,
        metavar="[NAME]",
        parser=text_value,
        autocompletion=completion.platforms,
        help="One platform (default: all).",
    ),
    as_json: JsonOpt = False,
) -> None:
    """What each platform supports: publishing, metrics (reported and always null), sign-in, limits.

    Generated from the platforms' own specs, plugins included; a plugin that cannot be loaded is
    listed with the reason (and no other command is affected).
    """
    from postcli import output
    from postcli.services import platforms as platforms_svc

    if name is not None:
        described = platforms_svc.describe(name.strip().lower())
        if as_json:
            output.print_json(described)
        else:
            _show_one(described)
        return
    rows, problems = platforms_svc.overview()
    if as_json:
        output.print_json({"platforms": rows, "broken_plugins": [{"name": k, "error": v} for k, v in problems.items()]})
        return
    output.table(
        ["platform", "publishes", "text limit", "metrics reported", "browser sign-in", "own app"],
        [
            [
                d["name"] + (" (plugin)" if d["plugin"] else ""),
                ", ".join(_PUBLISHES[k] for k in _PUBLISHES if d["publish"][k]),
                f"{d['limits']['max_text']} {d['limits']['count_unit']}",
                ", ".join(d["metrics"]["reported"]) or "none",
                _yes(d["signin"]["browser"]),
                _yes(d["signin"]["own_app"]) if d["signin"]["browser"] else "—",
            ]
            for d in rows
        ],
    )
    for plugin, problem in problems.items():
        output.warn(f"platform plugin {plugin}: {problem}")
    output.line("Details: postcli platforms NAME (or --json).")

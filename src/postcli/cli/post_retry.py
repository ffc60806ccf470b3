"""`postcli post retry ID` and `postcli post retry --failed`: publish again what failed."""

from __future__ import annotations

from typing import Any, Optional

import typer

from postcli.cli import completion
from postcli.cli._options import JsonOpt, id_value, ref_value, text_value


def retry(
    post_id: Optional[str] = typer.Argument(
        None, metavar="[ID]", parser=id_value, autocompletion=completion.posts, help="The post id."
    ),
    failed: bool = typer.Option(False, "--failed", help="Every failed target (of every post) instead of one post."),
    account: Optional[str] = typer.Option(
        None,
        "--account",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.accounts,
        help="With --failed: only this account's targets.",
    ),
    platform: Optional[str] = typer.Option(
        None,
        "--platform",
        metavar="PLATFORM",
        parser=text_value,
        autocompletion=completion.platforms,
        help="With --failed: only this platform's targets.",
    ),
    since: Optional[str] = typer.Option(
        None, "--since", metavar="WHEN", parser=text_value, help="With --failed: only targets last tried since WHEN."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="With --failed: list what would be retried, send nothing."),
    resend: bool = typer.Option(
        False,
        "--resend",
        help="With ID: send again the targets whose outcome is unknown, without looking (you checked: "
        "the post is not there).",
    ),
    published: Optional[str] = typer.Option(
        None,
        "--published",
        metavar="LINK",
        parser=text_value,
        help="With ID: the link (or id) of the post you found on the platform, for a target whose outcome is unknown.",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Publish again only the targets that failed (each is checked on the platform first, so one
    that had gone through is reconciled, not sent twice).

    `post retry ID` retries one post; `post retry --failed` every failed target, e.g. after
    reconnecting an account (`--account`, `--platform`, `--since` narrow it; `--dry-run` lists).
    A target whose outcome is unknown (the platform may have the post and cannot be asked) is
    never sent blind: check the platform, then `post retry ID --published LINK` or `--resend`.
    """
    from postcli.errors import InvalidInput

    if (post_id is None) == (not failed):
        raise InvalidInput(
            "give a post ID or --failed (not both).", hint="postcli post retry 12 / postcli post retry --failed"
        )
    if not failed and (account or platform or since or dry_run):
        raise InvalidInput(
            "--account, --platform, --since and --dry-run go with --failed.",
            hint="postcli post retry --failed --account ID",
        )
    if failed and (resend or published is not None):
        raise InvalidInput(
            "--resend and --published settle one post's target whose outcome is unknown: give its ID.",
            hint="postcli post retry ID --published LINK / postcli post retry ID --resend",
        )
    if post_id is not None:
        from postcli.cli.post_outcome import _exit_for, _render_outcome
        from postcli.services.posts.publish import retry_post

        outcome = retry_post(post_id, resend=resend, published=published)
        _render_outcome(outcome, as_json)
        _exit_for(outcome)
        return
    _retry_failed(account, platform, since, dry_run, as_json)


def _retry_failed(account: str | None, platform: str | None, since: str | None, dry_run: bool, as_json: bool) -> None:
    from postcli import output
    from postcli.cli._options import check_post_filters
    from postcli.services.posts.retry_failed import retry_failed
    from postcli.services.posts.views import outcome_dict
    from postcli.services.unattended import published

    _status, platform = check_post_filters(None, platform)
    when = _since(since)
    report = retry_failed(account=account, platform=platform, since=when, dry_run=dry_run)
    if not dry_run:
        published(report.outcomes)
    if as_json:
        output.print_json(
            {
                "dry_run": dry_run,
                "targets": report.waiting,
                "outcomes": [outcome_dict(o) for o in report.outcomes],
                "errors": [{"post_id": p, "error": e} for p, e in report.errors],
                "exit_code": 0 if dry_run else report.exit_code,
            }
        )
    else:
        _show(report, dry_run)
    if not dry_run and report.exit_code:
        raise typer.Exit(report.exit_code)


def _since(text: str | None) -> Any:
    if text is None:
        return None
    from postcli.cli._options import read_time

    return read_time(text, None, option="--since")


def _show(report: Any, dry_run: bool) -> None:
    from postcli import output

    if not report.waiting:
        output.line("No failed targets to retry.")
        return
    verb = "Would retry" if dry_run else "Retried"
    output.table(
        ["post", "target", "platform", "account", "attempts", "last error"],
        [
            [str(w["post_id"]), str(w["target_id"]), w["platform"], w["handle"], str(w["attempts"]), w["error"] or ""]
            for w in report.waiting
        ],
        title=f"{verb} {len(report.waiting)} failed target(s)",
    )
    mine = report.retried_targets
    for o in report.outcomes:
        for t in o.targets:
            if t.target_id in mine:
                output.line(
                    f"post {o.post_id} {t.platform} ({t.handle}): {t.status}" + (f" - {t.error}" if t.error else "")
                )
    for post_id, error in report.errors:
        output.line(f"post {post_id}: not retried - {error}")

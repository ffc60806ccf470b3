"""`postcli queue set|show|suggest`: weekly posting slots per account."""

from __future__ import annotations

from typing import List

import typer

from postcli.cli import completion
from postcli.cli._options import JsonOpt, TzOpt, count_value, ref_value

app = typer.Typer(
    help="A posting queue per account: weekly slots, and posts dropped into the next free one.", no_args_is_help=True
)


@app.command("set")
def set_(
    slots: str = typer.Argument(..., metavar="SLOTS", help='Weekly slots, e.g. "mon-fri 09:00,17:30; sat 11:00".'),
    account: List[str] = typer.Option(
        [],
        "--account",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.accounts,
        help="The account(s) (default: every account). Repeatable.",
    ),
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set (replace) the weekly slots of one or more accounts' queues.

    Slots are wall-clock times in the queue's zone: one skipped by a DST change falls on the next
    valid minute, one that happens twice takes the first occurrence.
    """
    from postcli import output
    from postcli.services.queue.service import set_queue

    done = set_queue(account, slots, tz)
    if as_json:
        output.print_json([q.as_json() for q in done])
        return
    for q in done:
        output.line(f"Queue of {q.platform} {q.handle} (id {q.account_id}): {q.slots} ({q.timezone})")


@app.command("show")
def show(
    account: List[str] = typer.Option(
        [],
        "--account",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.accounts,
        help="The account(s) (default: every queue). Repeatable.",
    ),
    weeks: int = typer.Option(2, "--weeks", metavar="N", parser=count_value, help="How many weeks ahead, 1-52."),
    as_json: JsonOpt = False,
) -> None:
    """The coming slots of each queue, with the post scheduled in each."""
    from postcli import output
    from postcli.services.queue.service import show as run

    queues = run(account, weeks=weeks)
    if as_json:
        output.print_json(queues)
        return
    if not queues:
        output.line('No queues yet. Set one with: postcli queue set "mon-fri 09:00,17:30" --account ID')
        return
    for q in queues:
        output.table(
            ["slot", "post", "text"],
            [
                [
                    output.fmt_time(u["at"], q["timezone"]),
                    str(u["post_id"] or "free"),
                    output.excerpt(u["text"] or "", 50),
                ]
                for u in q["upcoming"]
            ],
            title=f"{q['platform']} {q['handle']}: {q['slots']} ({q['timezone']})",
        )


@app.command("suggest")
def suggest(
    account: str = typer.Option(
        ..., "--account", metavar="ACCOUNT", parser=ref_value, autocompletion=completion.accounts, help="The account."
    ),
    slots: int = typer.Option(5, "--slots", metavar="N", parser=count_value, help="How many slots to suggest."),
    tz: TzOpt = None,
    apply: bool = typer.Option(False, "--apply", help="Write the suggested slots as the account's queue."),
    as_json: JsonOpt = False,
) -> None:
    """Suggest weekly slots from the account's own engagement (best times over the last 90 days).

    Each slot says how many posts it rests on and how its mean engagement compares with the
    account's mean. Too little data (no weekday-and-hour with 3 posts) is exit 4.
    """
    from postcli import output
    from postcli.services.queue.suggest import suggest as run

    result = run(account, count=slots, tz=tz, apply=apply)
    if as_json:
        output.print_json(result.as_json())
        return
    output.table(
        ["slot", "posts", "mean engagement", "vs account mean"],
        [
            [
                f"{s.as_json()['weekday']} {s.as_json()['time']}",
                str(s.posts),
                f"{s.mean_engagement:,.1f}",
                "—" if s.vs_mean is None else f"{s.vs_mean * 100:+.0f}%",
            ]
            for s in result.suggestions
        ],
        title=f"Suggested slots for {account} ({result.timezone})",
    )
    if apply:
        output.line(f"Queue set: {result.slots_text}")
    else:
        output.line(
            f'Apply with: postcli queue set "{result.slots_text}" --account {account} --tz {result.timezone}  (or --apply)'
        )

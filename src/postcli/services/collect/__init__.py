"""`collect`: snapshot recent posts and every active account, through the jobs table.

One run (or one `--worker`) is: plan (enqueue a job per account and per recent
target, once per key), then per account claim its due jobs in chunks, fetch
them in batches as large as the platform's batch endpoint takes, and write the
results. Accounts run side by side, and so do an account's batches (up to a
per-platform limit); a global gate keeps `[collect] concurrency` requests in
flight whatever the number of accounts.

Only one thread of a run touches the store: the writer. Fetch threads hand it
their results and it commits whatever has queued up in one transaction, so
SQLite's single write lock is taken a few times per run, not once per batch by
competing threads. A chunk claim takes the account's request budget for it
(`rate_budget`, shared by every collector of the store) in the same transaction.

Errors (DESIGN.md "Collection rules"): a post the platform no longer shows ->
target `deleted`; 401/revoked -> account `token_expired` and its remaining jobs
skipped; 429 -> the account pauses for Retry-After (for every collector) and the
batch is postponed without counting an attempt; anything else -> the batch is
retried with exponential backoff (`[collect] backoff_seconds`), then
dead-lettered after `[collect] max_attempts`. Nothing an account does stops the
other accounts.

Overlapping runs and workers share the work through the jobs table: claims are
exclusive (BEGIN IMMEDIATE on SQLite, FOR UPDATE SKIP LOCKED on PostgreSQL) and
leased; a collector writes results only for jobs it still holds, so a job whose
lease ran out and was re-claimed is not done twice. A run does not re-enqueue a
key that another run finished within `[collect] min_interval_seconds`.

The modules, in the order a run meets them:

    planning     enqueue this run's jobs (`plan`)
    run          one run: every account side by side, one writer (`collect`)
    worker       `collect --worker`: runs over whatever is due, until idle (`work`)
    account_run  one account's share: claims, parallel fetches, failures
    claims       a chunk of jobs and its request budget, in one transaction
    writer       the single writer thread
    results      saving fetched batches: snapshots, deletions, finished jobs
    backlog      what the jobs table holds for an account (live, errored, next due)
    deletions    when an absent post counts as deleted
    throttle     a rate limit too long to wait for: defer the account
    report       what a run did, and its exit code
"""

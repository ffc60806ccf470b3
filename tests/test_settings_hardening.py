"""Issue 13, classes 5-8, 10 and 11 (part): settings and files of the wrong shape, values that
would make postcli unusable, collect failures cron must see, secrets in --debug tracebacks,
read-only homes and damaged stores, private files.

Each bad setting is one line naming the file or variable and the fix, exit 2, no "bug", no
traceback, nothing left behind. Read-only cases run postcli as an unprivileged user (setpriv):
the tests run as root, for whom chmod does not stop writes.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from fakes.mastodon_server import FakeMastodon
from support import unprivileged
from support.cli import run_postcli

MASTO_TOKEN = "masto-secret-token-9f8e7d6c5b4a"


def assert_one_clean_error(r, *needles: str, code: int = 2) -> None:  # type: ignore[no-untyped-def]
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    err = r.stderr
    assert "This is a bug" not in err and "Traceback" not in err, err
    assert err.startswith("error: "), err
    for needle in needles:
        assert needle in err, (needle, err)


def sandbox_account(cli) -> int:  # type: ignore[no-untyped-def]
    r = cli("accounts", "add", "sandbox", "--handle", "ana.sandbox", "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def posts_in(home: Path) -> int:
    return sqlite3.connect(home / "postcli.db").execute("select count(*) from posts").fetchone()[0]


# --- class 5: files and variables of the wrong shape ---------------------------------------


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"defaults = 5\n", "defaults must be a table"),
        (b'[defaults]\ntimezone = "\xff\xfe"\n', "not UTF-8"),
        (b"[defaults]\ntimezone = 5\n", "timezone must be a string"),
        (b'[defaults]\ntimezone = "Mars/Olympus"\n', "not an IANA timezone"),
    ],
)
def test_a_config_file_of_the_wrong_shape_is_one_line_naming_it(cli, home, content, needle):
    (home / "config.toml").write_bytes(content)
    r = cli("post", "list")
    assert_one_clean_error(r, str(home / "config.toml"), needle)


def test_a_directory_where_the_config_file_goes(cli, home):
    (home / "config.toml").mkdir()
    assert_one_clean_error(cli("post", "list"), str(home / "config.toml"), "is a directory")
    # `config init` is how to repair a config: it still runs, and says what is in the way.
    assert_one_clean_error(cli("config", "init", "--force"), "is a directory")
    assert cli("config", "path").exit_code == 0


def test_a_broken_config_is_reported_by_commands_that_do_not_read_it_themselves(cli, home):
    (home / "config.toml").write_text("defaults = 5\n")
    assert_one_clean_error(cli("accounts", "list"), "config.toml")
    assert cli("accounts", "list", "--help").exit_code == 0  # help always works


@pytest.mark.parametrize("content", [b"[]", b"\xff\xfe{}", b'{"account:1": 5}', b"{not json"])
def test_a_damaged_credentials_file_is_exit_2_naming_it_and_stores_nothing(cli, home, content):
    acc = sandbox_account(cli)
    (home / "credentials.json").write_bytes(content)
    r = cli("post", "create", "hello", "--to", str(acc))
    assert_one_clean_error(r, str(home / "credentials.json"), "accounts add")
    assert posts_in(home) == 0


def test_damaged_secrets_of_one_account_name_the_account(cli, home):
    acc = sandbox_account(cli)
    (home / "credentials.json").write_text(json.dumps({f"account:{acc}": "[1, 2]"}))
    # One account's secrets, not the settings: that account needs reconnecting (exit 6).
    assert_one_clean_error(cli("accounts", "metrics", str(acc)), f"account {acc}", "accounts add", code=6)


def test_postcli_home_pointing_at_a_file(cli, home, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    r = cli("post", "list", env={"POSTCLI_HOME": str(f)})
    assert_one_clean_error(r, "POSTCLI_HOME", "not a directory")


@pytest.mark.parametrize("url", ["foo", "mysql://bob:hunter2pass@db.example/postcli", "mongodb+srv://x"])
def test_a_database_url_postcli_cannot_use(cli, url):
    r = cli("post", "list", env={"POSTCLI_DATABASE_URL": url})
    assert_one_clean_error(r, "POSTCLI_DATABASE_URL", "SQLite or PostgreSQL" if "://" in url else "not a database URL")
    assert "hunter2pass" not in r.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob:hunter2pass@[::1:5432/postcli",  # an IPv6 host without its "]"
        "postgresql://bob:hunter2pass@[::1",
        "postgresql+psycopg://bob:hunter2pass@db.example:54x/postcli",  # a port that is not a number
    ],
)
def test_a_database_url_that_cannot_be_read_is_a_settings_error_without_its_password(cli, url):
    # Before: psycopg's parser quoted the whole URL, password included, and the exit code was 1.
    r = cli("post", "list", env={"POSTCLI_DATABASE_URL": url})
    assert_one_clean_error(r, "POSTCLI_DATABASE_URL cannot be read")
    assert "hunter2pass" not in r.stderr


def test_a_driver_quoting_the_url_never_shows_its_password():
    from postcli.store.session import open_error

    err = open_error(
        "postgresql+psycopg://bob@db.example/postcli",
        ValueError('invalid URI: "postgresql://bob:hunter2pass@db.example/postcli"'),
    )
    assert "hunter2pass" not in str(err) and "bob:***@" not in str(err) and "://***@db.example" in str(err)


def test_db_backup_onto_a_directory_leaves_nothing_behind(cli, tmp_path):
    sandbox_account(cli)
    target = tmp_path / "backups"
    target.mkdir()
    r = cli("db", "backup", str(target), "--force")
    assert_one_clean_error(r, str(target), "is a directory")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backups")) == ["backups"]
    assert list(target.iterdir()) == []


def test_a_store_whose_alembic_version_table_is_gone(cli, home):
    from postcli.store import session as store_session

    sandbox_account(cli)
    conn = sqlite3.connect(home / "postcli.db")
    conn.execute("drop table alembic_version")
    conn.commit()
    conn.close()
    for args in (("post", "list"), ("db", "status"), ("accounts", "list")):
        store_session.reset()  # as a new process: no engine cached from before the damage
        r = cli(*args)
        assert_one_clean_error(r, "alembic_version", "backup", code=1)
        assert "POSTCLI_DATABASE_URL" not in r.stderr and "postgresql" not in r.stderr
    # Nothing was changed: the account is still there.
    assert sqlite3.connect(home / "postcli.db").execute("select count(*) from accounts").fetchone()[0] == 1


def test_a_damaged_sqlite_file_gets_a_hint_about_the_file_not_postgresql(cli, home):
    (home / "postcli.db").write_bytes(b"this is not a database" * 500)
    for args in (("post", "list"), ("db", "status")):
        r = cli(*args)
        assert_one_clean_error(r, "postcli.db", "backup", code=1)
        assert "POSTCLI_DATABASE_URL" not in r.stderr and "postgresql" not in r.stderr.lower()


def test_refusing_to_overwrite_is_exit_2_for_config_init_and_db_backup_alike(cli, home, tmp_path):
    assert cli("config", "init").exit_code == 0
    assert_one_clean_error(cli("config", "init"), "already exists", "--force")
    sandbox_account(cli)
    out = tmp_path / "b.db"
    assert cli("db", "backup", str(out)).exit_code == 0
    assert_one_clean_error(cli("db", "backup", str(out)), "already exists", "--force")


# --- class 6: values that would make postcli unusable; unknown keys ------------------------


@pytest.mark.parametrize(
    "section, key, value, needle",
    [
        ("publish", "max_attempts", "0", "[publish] max_attempts must be >= 1"),
        ("publish", "max_lateness_minutes", "0", "[publish] max_lateness_minutes must be >= 1"),
        ("collect", "concurrency", "0", "[collect] concurrency must be >= 1"),
        ("collect", "max_attempts", "0", "[collect] max_attempts must be >= 1"),
        ("collect", "days", "0", "[collect] days must be >= 1"),
        ("collect", "lease_seconds", "0", "[collect] lease_seconds must be > 0"),
        ("network", "timeout_seconds", "0", "[network] timeout_seconds must be > 0"),
        ("publish", "max_attempts", "true", "must be a whole number"),
        ("collect", "backoff_seconds", '"2"', "must be a number"),
        ("network", "timeout_seconds", "nan", "must be a finite number"),
        ("collect", "days", "99999999999", "[collect] days must be at most 3660"),
    ],
)
def test_unusable_config_values_are_refused_naming_the_key(cli, home, section, key, value, needle):
    (home / "config.toml").write_text(f"[{section}]\n{key} = {value}\n")
    acc = sandbox_account_or_error(cli)
    r = cli("post", "create", "hello", "--to", acc)
    assert_one_clean_error(r, needle, str(home / "config.toml"))
    assert posts_in_or_zero(home) == 0


def sandbox_account_or_error(cli) -> str:  # type: ignore[no-untyped-def]
    # With a bad config even `accounts add` refuses; the target is then just a name.
    r = cli("accounts", "add", "sandbox", "--handle", "ana.sandbox")
    assert r.exit_code == 2
    return "1"


def posts_in_or_zero(home: Path) -> int:
    return posts_in(home) if (home / "postcli.db").exists() else 0


@pytest.mark.parametrize("days", [-1, 0, 1, 30, 3660, 3661])
def test_config_days_has_the_bounds_of_the_option(cli, home, days):
    """settings.py says `[collect] days` and `collect --days` share their bounds: one verdict for both."""
    by_option = cli("collect", "--plan-only", "--days", str(days)).exit_code
    (home / "config.toml").write_text(f"[collect]\ndays = {days}\n")
    by_config = cli("collect", "--plan-only").exit_code
    assert by_option == by_config == (0 if 1 <= days <= 3660 else 2), (by_option, by_config)


def test_config_concurrency_zero_is_refused_like_the_option(cli, home):
    assert cli("collect", "--concurrency", "0").exit_code == 2
    (home / "config.toml").write_text("[collect]\nconcurrency = 0\n")
    assert_one_clean_error(cli("collect"), "concurrency")


def test_unknown_keys_are_warned_about_by_name_with_a_suggestion(cli, home):
    (home / "config.toml").write_text('[defaults]\ntimezne = "Europe/Berlin"\n[colect]\ndays = 3\n')
    r = cli("post", "list")
    assert r.exit_code == 0, r.stderr
    assert "unknown key 'timezne' in [defaults] (did you mean 'timezone'?)" in r.stderr
    assert "unknown section [colect] (did you mean 'collect'?)" in r.stderr
    assert r.stderr.count("timezne") == 1


def test_unknown_keys_of_sections_read_elsewhere_are_warned_about_too(cli, home):
    (home / "config.toml").write_text('[s3]\nbucket = "b"\nregoin = "eu-central-1"\n[credentials]\nbakend = "file"\n')
    r = cli("post", "list")
    assert r.exit_code == 0, r.stderr
    assert "unknown key 'regoin' in [s3] (did you mean 'region'?)" in r.stderr
    assert "unknown key 'bakend' in [credentials] (did you mean 'backend'?)" in r.stderr


def test_an_unknown_credentials_backend_is_a_bad_setting_naming_where(cli, home):
    (home / "config.toml").write_text('[credentials]\nbackend = "vault"\n')
    assert_one_clean_error(
        cli("accounts", "add", "sandbox", "--handle", "a.sandbox"), "[credentials] backend", str(home / "config.toml")
    )
    (home / "config.toml").unlink()
    r = cli("accounts", "add", "sandbox", "--handle", "a.sandbox", env={"POSTCLI_CREDENTIALS": "vault"})
    assert_one_clean_error(r, "POSTCLI_CREDENTIALS")


def test_known_tables_and_the_written_example_raise_no_warning(cli, home):
    assert cli("config", "init").exit_code == 0
    with (home / "config.toml").open("a") as fh:
        fh.write('\n[credentials]\nbackend = "file"\n')
    r = cli("post", "list")
    assert r.exit_code == 0 and "warning" not in r.stderr, r.stderr


# --- class 7: collect tells cron -----------------------------------------------------------


def test_collect_with_a_damaged_credentials_file_counts_reports_and_exits_2(cli, home):
    assert cli("accounts", "add", "sandbox", "--handle", "ana.sandbox").exit_code == 0
    assert cli("accounts", "add", "sandbox", "--handle", "bo.sandbox").exit_code == 0
    (home / "credentials.json").write_bytes(b"\xff\xfe[]")
    r = run_postcli("collect", "--json")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "This is a bug" not in r.stderr
    out = json.loads(r.stdout)
    assert out["failed"] >= 2
    assert [e["account"] for e in out["account_errors"]] == ["sandbox:ana.sandbox", "sandbox:bo.sandbox"]
    lines = [ln for ln in r.stderr.splitlines() if "not collected" in ln]
    assert len(lines) == 2 and all("credentials.json" in ln for ln in lines)


def test_collect_with_an_unreadable_secret_of_one_account_exits_7(cli, home):
    assert cli("accounts", "add", "sandbox", "--handle", "ana.sandbox").exit_code == 0
    assert cli("accounts", "add", "sandbox", "--handle", "bo.sandbox").exit_code == 0
    creds = json.loads((home / "credentials.json").read_text())
    creds["account:2"] = "not json"
    (home / "credentials.json").write_text(json.dumps(creds))
    r = run_postcli("collect")
    assert r.returncode == 7, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert "failed 0" not in r.stdout
    assert [ln for ln in r.stderr.splitlines() if "not collected" in ln] == [
        "error: sandbox:bo.sandbox: not collected: the stored credentials of account 2 are damaged."
    ]


def test_collect_with_a_bad_timeout_variable_is_exit_2_without_traceback(cli, home):
    assert cli("accounts", "add", "sandbox", "--handle", "ana.sandbox").exit_code == 0
    r = run_postcli("collect", env={"POSTCLI_TIMEOUT": "abc"})
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: POSTCLI_TIMEOUT='abc'"), r.stderr


# --- class 8: --debug never prints a secret -------------------------------------------------


def test_debug_traceback_redacts_a_token_echoed_while_connecting(cli, home):
    with FakeMastodon(token=MASTO_TOKEN) as server:
        echo = {"error": f"The access token {MASTO_TOKEN} is invalid"}
        server.fail_next("GET", "/api/v1/accounts/verify_credentials", 401, json=echo, times=10)
        r = run_postcli(
            "--debug",
            "accounts",
            "add",
            "mastodon",
            "--instance",
            server.url,
            "--token-stdin",
            input=MASTO_TOKEN + "\n",
        )
        assert r.returncode == 6, r.stderr
        assert "Traceback" in r.stderr
        assert MASTO_TOKEN not in r.stderr and MASTO_TOKEN not in r.stdout, r.stderr


def test_redacted_traceback_masks_arguments_and_chained_causes():
    from postcli.secrets_redact import redacted_traceback, register_secret

    secret = "s3cr3t-value-registered-0042"
    register_secret(secret)
    try:
        try:
            raise ValueError("server said", {"echo": secret})
        except ValueError as inner:
            raise RuntimeError(f"wrapped {secret!r}") from inner
    except RuntimeError as exc:
        text = redacted_traceback(exc)
    assert "ValueError" in text and "RuntimeError" in text and "direct cause" in text
    assert secret not in text and text.count("<redacted>") >= 2


# --- class 10: read-only homes --------------------------------------------------------------

NOBODY = unprivileged.NOBODY


def _as_nobody_available() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.fixture(scope="session")
def nobody_postcli():
    """The argv that starts postcli as `nobody`, from files `nobody` can reach (support/unprivileged.py)."""
    root, argv, why_not = unprivileged.prepare()
    try:
        if why_not:
            pytest.skip(why_not)
        yield root, argv
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def shared_home():
    """A home an unprivileged user can reach (pytest's tmp dirs are 0700 to root)."""
    root = Path(tempfile.mkdtemp(prefix="postcli-ro-"))
    os.chmod(root, 0o755)
    home = root / "home"
    home.mkdir()
    yield home
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def run_unprivileged(nobody_postcli):
    """postcli as user `nobody` (the tests run as root, who can write anything)."""
    root, argv = nobody_postcli

    def run(home: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        env = unprivileged.environment(root, POSTCLI_HOME=str(home), HOME=str(home.parent))
        cmd = unprivileged.as_nobody([*argv, *args])
        return subprocess.run(cmd, env=env, input=input, capture_output=True, text=True, timeout=60)

    return run


def make_read_only_for_nobody(home: Path) -> None:
    for p in [home, *home.rglob("*")]:
        os.chown(p, NOBODY, NOBODY)
        os.chmod(p, 0o555 if p.is_dir() else 0o400)


needs_setpriv = pytest.mark.skipif(not _as_nobody_available(), reason="needs root and setpriv to test as another user")


@needs_setpriv
def test_a_read_only_store_still_answers_reading_commands(cli, shared_home, run_unprivileged):
    from postcli.store import session as store_session

    home = shared_home
    env = {"POSTCLI_HOME": str(home)}
    assert cli("accounts", "add", "sandbox", "--handle", "ana.sandbox", env=env).exit_code == 0
    assert cli("post", "create", "hello", "--to", "1", env=env).exit_code == 0
    assert cli("collect", env=env).exit_code == 0
    store_session.reset()  # the last connection closes: no -wal/-shm left, the hardest case to read
    make_read_only_for_nobody(home)
    for args in (("post", "list"), ("db", "status"), ("analytics", "overview"), ("post", "show", "1")):
        r = run_unprivileged(home, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert "Traceback" not in r.stderr
    r = run_unprivileged(home, "post", "create", "x", "--to", "1", "--draft")
    assert_clean_process_error(r, 1, "read", "writable")
    assert "POSTCLI_DATABASE_URL" not in r.stderr and "postgresql" not in r.stderr.lower()


@needs_setpriv
def test_config_init_and_accounts_add_in_a_read_only_home(shared_home, run_unprivileged):
    home = shared_home
    make_read_only_for_nobody(home)
    r = run_unprivileged(home, "config", "init")
    assert_clean_process_error(r, 1, str(home / "config.toml"), "writable")
    r = run_unprivileged(home, "accounts", "add", "sandbox", "--handle", "ana.sandbox")
    assert_clean_process_error(r, 1, str(home), "writable")
    assert list(home.iterdir()) == []  # nothing left behind


def assert_clean_process_error(r, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "This is a bug" not in r.stderr, r.stderr
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr)


# --- class 11: private files -----------------------------------------------------------------


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_the_store_its_log_and_backups_are_created_private(cli, home, tmp_path):
    sandbox_account(cli)
    assert mode(home / "postcli.db") == 0o600
    for extra in ("postcli.db-wal", "postcli.db-shm"):
        if (home / extra).exists():
            assert mode(home / extra) == 0o600, extra
    assert cli("db", "backup", str(tmp_path / "copy.db")).exit_code == 0
    assert mode(tmp_path / "copy.db") == 0o600
    assert cli("config", "init").exit_code == 0
    assert mode(home / "config.toml") == 0o600


def test_a_credentials_file_readable_by_others_is_warned_about_and_fixed(cli, home):
    acc = sandbox_account(cli)
    creds = home / "credentials.json"
    os.chmod(creds, 0o644)
    r = cli("accounts", "metrics", str(acc))
    assert r.exit_code == 0, r.stderr
    assert "readable by others (mode 0644)" in r.stderr and "0600" in r.stderr
    assert mode(creds) == 0o600
    again = cli("accounts", "metrics", str(acc))
    assert "readable by others" not in again.stderr

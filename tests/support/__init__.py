"""What the tests share: the CLI runners (cli.py), connecting accounts and seeding the store
(accounts.py), report fixture builders (builders.py), generated media (media.py), a
pseudo-terminal (terminal.py), keyring backends that fail, lie or hang (keyrings.py) and the SQLite/PostgreSQL `backend` fixture (backend.py).

Test modules import from here, never from each other.
"""

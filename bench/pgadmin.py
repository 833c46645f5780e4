"""What every benchmark needs to create and drop its own PostgreSQL database."""

from urllib.parse import urlsplit


def database_name(url: str) -> str:
    """The database a ``postgres://…/name`` URL names."""
    return urlsplit(url).path.lstrip("/")


def admin_params(url: str) -> dict:
    """psycopg connection keywords for the server's ``postgres`` database, in autocommit, where
    CREATE and DROP DATABASE run."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "user": parts.username,
        "password": parts.password,
        "dbname": "postgres",
        "connect_timeout": 3,
        "autocommit": True,
    }

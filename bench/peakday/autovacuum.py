"""What PostgreSQL's autovacuum would do during the day, on a server where it is off.

Production runs PostgreSQL with autovacuum on (its default, docs/DEPLOY.md): about once a
minute it analyzes a table once more than 50 rows + 10 % of it changed since its last
statistics, and vacuums it once more than 50 rows + 20 % are dead. A server set up for tests may
turn it off (this machine's does, ``autovacuum = off``); the day would then be planned all
along from statistics taken before it began — tables believed empty, parcels never counted —
and measure a server no studio runs. Where the server's autovacuum is off, this thread does the
same work with the same thresholds, through one connection to the day's database (so its CPU
counts as PostgreSQL's), and counts what it did. Where autovacuum is on, it does nothing.
"""

import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

NAPTIME = 60.0  # autovacuum_naptime
ANALYZE_THRESHOLD, ANALYZE_SCALE = 50, 0.1  # autovacuum_analyze_threshold / _scale_factor
VACUUM_THRESHOLD, VACUUM_SCALE = 50, 0.2  # autovacuum_vacuum_threshold / _scale_factor


@dataclass
class StandIn:
    url: str
    naptime: float = NAPTIME
    active: bool = False  # the server's autovacuum is off: this thread works in its place
    analyzed: int = 0
    vacuumed: int = 0
    # (start and end on the monotonic clock, what), for the day's timeline
    work: list[tuple[float, float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> "StandIn":
        with psycopg.connect(self.url) as conn:
            self.active = conn.execute("SHOW autovacuum").fetchone()[0] == "off"
        if self.active:
            self.thread = threading.Thread(target=self._run, name="autovacuum", daemon=True)
            self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=120)

    def describe(self) -> str:
        if not self.active:
            return "autovacuum: on (the server's own)"
        return (
            f"autovacuum: off on this server; the bench did its work every {self.naptime:.0f} s "
            f"(ANALYZE {self.analyzed}×, VACUUM {self.vacuumed}×)"
        )

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(self.naptime):
                self.once(conn)

    def once(self, conn) -> None:
        rows = conn.execute(
            "SELECT s.relname, s.n_mod_since_analyze, s.n_dead_tup, GREATEST(c.reltuples, 0) "
            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = 'public'"
        ).fetchall()
        for table, changed, dead, tuples in rows:
            name = sql.Identifier(table)
            started = time.monotonic()
            if dead > VACUUM_THRESHOLD + VACUUM_SCALE * tuples:
                conn.execute(sql.SQL("VACUUM ANALYZE {}").format(name))
                self.vacuumed += 1
                self.analyzed += 1
                self.work.append((started, time.monotonic(), f"VACUUM ANALYZE {table}"))
            elif changed > ANALYZE_THRESHOLD + ANALYZE_SCALE * tuples:
                conn.execute(sql.SQL("ANALYZE {}").format(name))
                self.analyzed += 1
                self.work.append((started, time.monotonic(), f"ANALYZE {table}"))

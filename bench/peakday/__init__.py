"""The peak day, shared by ``bench/peak_day.py`` (20,000 orders against ``./serve``) and
``tests/studio/test_peak_day.py`` (a few hundred against the test server): the export
(``export``), the studio it starts from (``studio``), the HTTP client (``web``), the day
driven over HTTP (``day``), the final checks (``checks``) and, for the benchmark, where the
CPU time and memory go (``procs``)."""

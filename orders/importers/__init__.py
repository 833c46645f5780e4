"""Importing a platform's order export (CSV or XLSX) into orders.

- ``reading``: bytes → header and rows of text cells (encoding found, not assumed);
- ``presets``: which column holds which field (快手, 抖音, generic; a channel's saved mapping);
- ``rows``: every row checked (addresses read onto the national divisions by
  ``core.regions``), good ones grouped into order drafts;
- ``writing``: new orders written in bulk (``COPY`` on PostgreSQL);
- ``service``: the import batch from upload through preview and commit to allocation.
"""

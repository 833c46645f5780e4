"""Labels straight to a thermal printer: the label is drawn once by ``shipping.labels``,
rasterised at the printer's resolution to one bit a dot (``raster``), wrapped in the
printer's language (``languages``: ZPL ``^GFA`` or TSPL ``BITMAP``) and sent over raw TCP or
through a CUPS queue (``transport``). ``services`` keeps the print jobs (large ones go through
the task worker); ``views`` and ``api`` are the print queue's page and endpoints."""

"""``soundscraping export``: the dataset as files researchers load directly.

- ``arrow``: each table's Arrow schema, derived from ``storage.TABLES`` (the
  one schema definition), and the rows of either engine as typed record
  batches;
- ``tables``: Parquet / CSV / JSON lines, one file per table, streamed batch
  by batch (constant memory);
- ``graph``: the interaction graph as GraphML or an edge list, weights per kind;
- ``datacard``: ``datacard.json`` and ``datacard.md`` beside every export;
- ``cli``: the command.

pyarrow is the ``export`` extra (a crawler host does not need it)."""

-- load_so.sql: snapshot_ops's read path, one call per load
\set sid random(1, :nsessions)
SELECT load_snapshot('bench_:sid');

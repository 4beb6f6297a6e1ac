\set s random(1, 10000)
SELECT load_snapshot('sess_' || :s);

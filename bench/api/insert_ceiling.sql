\set s random(1, 10000)
INSERT INTO session_snapshots (session_id) VALUES ('sess_' || :s);

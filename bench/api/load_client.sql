\set s random(1, 10000)
SELECT snapshot_id, session_id, session_start_time, mode, paper_campaign_id, config, loop_count, status, snapshot_type, created_at FROM session_snapshots WHERE session_id = 'sess_' || :s ORDER BY created_at DESC, snapshot_id DESC LIMIT 1 \gset
SELECT position_key, trade_data, order_a_data, order_b_data, position_open_time FROM position_snapshots WHERE snapshot_id = :snapshot_id;
SELECT * FROM metrics_snapshots WHERE snapshot_id = :snapshot_id;
SELECT * FROM risk_guard_snapshots WHERE snapshot_id = :snapshot_id;

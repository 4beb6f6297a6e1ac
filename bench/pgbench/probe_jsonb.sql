-- probe_jsonb.sql: the report's JSONB key search (? operator), on a key
-- that one position in 1000 carries, so that the GIN index has work to do
SELECT snapshot_id, position_key, trade_data->>'symbol' FROM position_snapshots WHERE trade_data ? 'liquidation';

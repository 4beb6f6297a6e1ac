# scripts.sh: writes the pgbench scripts of the save workloads into a
# directory.  The three save paths send the same state document: the
# extension as one save_snapshot() call, the report's client as one INSERT
# per row inside a transaction, the ceiling as one single-row INSERT.
#
# Documents vary per transaction through pgbench variables, substituted
# into the literals by pgbench -M simple (as a psycopg2 client would send
# them): :sid (session), :loop (loop count), :px (price level).
#
# Sourced by run.sh; expects NPOS (positions per snapshot).

# position k's JSON objects (trade, order_a, order_b)
_sym() { printf 'S%02dUSDT' "$1"; }
_trade() {
	local s; s=$(_sym "$1")
	printf '{"symbol": "%s", "side": "long", "qty": 5.0, "entry_price_a": :px.25, "entry_price_b": :px.75, "entry_spread_bps": %d, "exchange_a": "binance", "exchange_b": "bybit", "notional_usd": 5000, "trade_id": "t_:loop-%d"}' "$s" $((8 + $1)) "$1"
}
_order() {	# k side exchange
	local s; s=$(_sym "$1")
	printf '{"order_id": "%s_:loop-%d", "exchange": "%s", "symbol": "%s", "side": "%s", "type": "limit", "price": :px.25, "qty": 5.0, "filled_qty": 5.0, "status": "filled", "fee_usd": 1.25}' "${2:0:1}" "$1" "$3" "$s" "$2"
}
_map() {	# a b : per-symbol map over the NPOS symbols
	local k out=""
	for ((k = 0; k < NPOS; k++)); do
		out+="${out:+, }\"$(_sym $k)\": $(((k * $1 + $2) % 1000))"
	done
	printf '{%s}' "$out"
}
_config() {
	local k syms=""
	for ((k = 0; k < NPOS; k++)); do syms+="${syms:+, }\"$(_sym $k)\""; done
	printf '{"symbols": [%s], "exchanges": ["binance", "bybit"], "max_positions": %d, "min_spread_bps": 8, "order_size_usd": 5000, "loop_interval_ms": 250}' "$syms" "$NPOS"
}

# The whole state document, as save_snapshot() takes it.
state_document() {
	local k pos=""
	for ((k = 0; k < NPOS; k++)); do
		pos+="${pos:+, }\"$(_sym $k)\": {\"trade\": $(_trade $k), \"order_a\": $(_order $k buy binance), \"order_b\": $(_order $k sell bybit), \"position_open_time\": 1764000000.5}"
	done
	printf '{"session": {"session_id": "bench_:sid", "start_time": 1764000000, "mode": "paper", "paper_campaign_id": "campaign_1", "config": %s, "loop_count": :loop, "status": "running"}, ' "$(_config)"
	printf '"positions": {"active_orders": {%s}}, ' "$pos"
	printf '"metrics": {"total_trades_opened": 120, "total_trades_closed": 110, "total_winning_trades": 70, "total_pnl_usd": 1234.5, "max_dd_usd": 250.25, "portfolio_initial_capital": 100000, "portfolio_equity": 101234.5, '
	printf '"per_symbol_pnl": %s, "per_symbol_trades_opened": %s, "per_symbol_trades_closed": %s, "per_symbol_winning_trades": %s}, ' \
		"$(_map 37 11)" "$(_map 3 7)" "$(_map 5 3)" "$(_map 2 1)"
	printf '"risk_guard": {"session_start_time": 1764000000, "daily_loss_usd": 120.5, "per_symbol_loss": %s, "per_symbol_trades_rejected": %s, "per_symbol_trades_allowed": %s, "per_symbol_capital_used": %s, "per_symbol_position_count": %s}}' \
		"$(_map 13 17)" "$(_map 1 1)" "$(_map 9 5)" "$(_map 41 29)" "$(_map 1 0)"
}

_vars() {
	cat <<'EOS'
\set sid random(1, :nsessions)
\set loop random(1, 100000000)
\set px random(100, 1100)
EOS
}

# write_save_scripts DIR
write_save_scripts() {
	local dir=$1 k
	mkdir -p "$dir"

	{ _vars; printf "SELECT save_snapshot('%s');\n" "$(state_document)"; } >"$dir/save_so.sql"

	{ _vars; printf "INSERT INTO bench.ceiling (doc) VALUES ('%s');\n" "$(state_document)"; } >"$dir/save_ceiling.sql"

	{
		_vars
		echo "BEGIN;"
		printf "INSERT INTO session_snapshots (session_id, session_start_time, mode, paper_campaign_id, config, loop_count, status, snapshot_type) VALUES ('bench_:sid', '2025-11-24 16:00:00+00', 'paper', 'campaign_1', '%s', :loop, 'running', 'periodic') RETURNING snapshot_id \\\\gset\n" "$(_config)"
		for ((k = 0; k < NPOS; k++)); do
			printf "INSERT INTO position_snapshots (snapshot_id, position_key, trade_data, order_a_data, order_b_data, position_open_time) VALUES (:snapshot_id, '%s', '%s', '%s', '%s', '2025-11-24 16:00:00.5+00');\n" \
				"$(_sym $k)" "$(_trade $k)" "$(_order $k buy binance)" "$(_order $k sell bybit)"
		done
		printf "INSERT INTO metrics_snapshots (snapshot_id, total_trades_opened, total_trades_closed, total_winning_trades, total_pnl_usd, max_dd_usd, portfolio_initial_capital, portfolio_equity, per_symbol_pnl, per_symbol_trades_opened, per_symbol_trades_closed, per_symbol_winning_trades) VALUES (:snapshot_id, 120, 110, 70, 1234.5, 250.25, 100000, 101234.5, '%s', '%s', '%s', '%s');\n" \
			"$(_map 37 11)" "$(_map 3 7)" "$(_map 5 3)" "$(_map 2 1)"
		printf "INSERT INTO risk_guard_snapshots (snapshot_id, session_start_time, daily_loss_usd, per_symbol_loss, per_symbol_trades_rejected, per_symbol_trades_allowed, per_symbol_capital_used, per_symbol_position_count) VALUES (:snapshot_id, '2025-11-24 16:00:00+00', 120.5, '%s', '%s', '%s', '%s', '%s');\n" \
			"$(_map 13 17)" "$(_map 1 1)" "$(_map 9 5)" "$(_map 41 29)" "$(_map 1 0)"
		echo "END;"
	} >"$dir/save_report.sql"
}

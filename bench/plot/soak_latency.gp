# soak_latency.gp: save latency over the soak, both databases.
# Variables: file_so, file_report (seconds, latency ms), outfile.
load dir . "/common.gp"
set output outfile
set title "Steady state: save latency of every transaction"
set xlabel "seconds into the soak"
set ylabel "save latency, ms"
set logscale y
plot file_report using 1:2 with points ls 2 pt 7 ps 0.3 title "report path", \
	file_so using 1:2 with points ls 1 pt 7 ps 0.3 title "snapshot_ops"

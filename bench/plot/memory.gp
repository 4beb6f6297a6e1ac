# memory.gp: one session's backend memory against the saves it has done.
# Variables: file_so, file_report (saves, context bytes, RssAnon kB, VmRSS
# kB), outfile.
load dir . "/common.gp"
set output outfile
set title "Backend memory of one session as it saves"
set xlabel "saves done by the session"
set ylabel "kB"
plot file_so using 1:($2 / 1024) with linespoints ls 1 title "snapshot_ops: memory contexts", \
	file_so using 1:3 with linespoints ls 1 dt 2 title "snapshot_ops: RssAnon", \
	file_report using 1:($2 / 1024) with linespoints ls 2 title "report path: memory contexts", \
	file_report using 1:3 with linespoints ls 2 dt 2 title "report path: RssAnon"

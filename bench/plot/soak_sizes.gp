# soak_sizes.gp: total size of the four tables (heap, indexes, TOAST) over
# the soak, both databases.  Variables: file_so, file_report (seconds,
# bytes), half (the second half's start, s), outfile.
load dir . "/common.gp"
set output outfile
set title "Steady state: size of the four tables and their indexes"
set xlabel "seconds into the soak"
set ylabel "MB"
set arrow 1 from half, graph 0 to half, graph 1 nohead dt 2 lc rgb "#888888"
set label 1 "second half" at half, graph 0.95 offset 1,0
plot file_so using 1:($2 / 1048576) with lines ls 1 title "snapshot_ops (worker: cleanup + VACUUM)", \
	file_report using 1:($2 / 1048576) with lines ls 2 title "report (its cleanup function + autovacuum)"

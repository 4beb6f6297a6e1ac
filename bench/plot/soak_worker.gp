# soak_worker.gp: memory of the worker processes over the soak.
# Variables: datafile (seconds, pid, backend type, VmRSS, RssAnon, Pss in
# kB), outfile.
load dir . "/common.gp"
set output outfile
set title "snapshot_ops background processes: memory over the soak"
set xlabel "seconds into the soak"
set ylabel "kB"
plot datafile using 1:5 with points ls 1 pt 7 ps 0.5 title "RssAnon (private)", \
	datafile using 1:6 with points ls 2 pt 5 ps 0.5 title "Pss", \
	datafile using 1:4 with points ls 3 pt 9 ps 0.5 title "VmRSS (with shared buffers touched)"

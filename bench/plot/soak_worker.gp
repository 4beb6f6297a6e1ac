# soak_worker.gp: memory of the snapshot_ops processes over the soak.
# Variables: datafile (seconds, pid, backend type, VmRSS, RssAnon, Pss in
# kB), outfile.
load dir . "/common.gp"
set output outfile
set title "snapshot_ops worker and launcher: memory over the soak" noenhanced
set xlabel "seconds into the soak"
set ylabel "MB"
w(t) = (strcol(3) eq t)
plot datafile using 1:(w("snapshot_ops_worker") ? $5 / 1024 : NaN) with linespoints ls 1 pt 7 ps 0.5 title "worker: RssAnon (private memory)", \
	datafile using 1:(w("snapshot_ops_worker") ? $6 / 1024 : NaN) with linespoints ls 2 pt 5 ps 0.5 title "worker: Pss (shared buffers it touched, shared out)", \
	datafile using 1:(w("snapshot_ops_launcher") ? $5 / 1024 : NaN) with linespoints ls 3 pt 9 ps 0.5 title "launcher: RssAnon"

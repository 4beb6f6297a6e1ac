# scales.gp: latency against scale, one line per series.  Variables:
# datafile (column 1: scale label, then one column per series, titles in
# the header row; ncols: their number + 1), outfile, plottitle, ylabel.
load dir . "/common.gp"
set output outfile
set title plottitle
set xlabel "snapshots in the tables"
set ylabel ylabel
set logscale y
set offsets 0.2, 0.2, 0, 0
plot for [i = 2:ncols] datafile using 0:i:xticlabels(1) with linespoints \
	ls (int((i - 2) / 2) % 6 + 1) dt 1 + (i - 2) % 2 title columnheader(i)

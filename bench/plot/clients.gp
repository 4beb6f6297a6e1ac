# clients.gp: a figure against the number of clients, one line per
# (variant, scale).  Variables: datafile (columns: clients, then one per
# series, titles in the header row; ncols: their number + 1), nvariants (series per scale: the
# colour), outfile, plottitle, ylabel, logy (1 = logarithmic y axis).
load dir . "/common.gp"
set output outfile
set title plottitle
set xlabel "clients"
set ylabel ylabel
if (logy) { set logscale y }
set xtics 1
set offsets 0.3, 0.3, 0, 0
plot for [i = 2:ncols] datafile using 1:i with linespoints \
	ls ((i - 2) % nvariants + 1) dt 1 + int((i - 2) / nvariants) pt (7 + 2 * int((i - 2) / nvariants)) lw 2 \
	title columnheader(i)

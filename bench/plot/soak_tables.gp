# soak_tables.gp: heap and index bytes of each table of one database over
# the soak.  Variables: datafile (seconds, then heap and index columns per
# table, titles in the header row; ncols: their number + 1), outfile,
# plottitle.
load dir . "/common.gp"
set output outfile
set title plottitle
set xlabel "seconds into the soak"
set ylabel "MB"
plot for [i = 2:ncols] datafile using 1:(column(i) / 1048576) with lines \
	ls (int((i - 2) / 2) + 1) dt 1 + (i - 2) % 2 title columnheader(i)

# retention.gp: the concurrent writer's save latency over time while each
# retention method runs.  Variables: file_a, file_b (seconds from the start
# of the deletion, latency ms), end_a, end_b (the deletion's length, s),
# title_a, title_b, outfile.
load dir . "/common.gp"
set terminal pngcairo size 900,640 enhanced font "DejaVu Sans,10"
set output outfile
set multiplot layout 2,1 title "Save latency of a concurrent writer while retention runs (deletion starts at 0)"
set ylabel "save latency, ms"
set logscale y
set key inside right top
set style rect fc rgb "#f2d7c9" fs solid 0.6 noborder
set object 1 rect from 0, graph 0 to end_a, graph 1 behind
set title title_a
plot file_a using 1:2 with points ls 1 pt 7 ps 0.4 title "save_snapshot()"
unset object 1
set object 2 rect from 0, graph 0 to end_b, graph 1 behind
set title title_b
set xlabel "seconds from the start of the deletion"
plot file_b using 1:2 with points ls 2 pt 7 ps 0.4 title "save_snapshot()"
unset multiplot

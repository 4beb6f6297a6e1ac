# common.gp: look shared by every plot (loaded by the others)
set terminal pngcairo size 900,520 enhanced font "DejaVu Sans,10"
set grid ytics lc rgb "#dddddd" lw 1 lt 1
set border 3
set datafile separator "\t"
set tics nomirror
set key below Left reverse noenhanced
set style line 1 lc rgb "#1b6ac9" lw 2 pt 7 ps 0.9
set style line 2 lc rgb "#d9541e" lw 2 pt 5 ps 0.9
set style line 3 lc rgb "#5b5b5b" lw 2 pt 9 ps 0.9
set style line 4 lc rgb "#2a9d3c" lw 2 pt 11 ps 0.9
set style line 5 lc rgb "#9b3fb5" lw 2 pt 13 ps 0.9
set style line 6 lc rgb "#c9a21b" lw 2 pt 15 ps 0.9

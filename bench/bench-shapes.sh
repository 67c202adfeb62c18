# shellcheck shell=bash
# The benchmark shapes (sourced, not run): kp-loadgen's options for each shape of
# docs/benchmarks.md, shared by compare-nchan.sh and profile-split.sh so that both run the
# same loads. (g) is for large payloads (--payload large, about 32 KiB): 1 channel x 1,000
# subscribers at 5 events/s, about 160 MB/s uncompressed.

shape_args() {   # kp-loadgen options of a shape
  case "$1" in
    a) echo "--mode live --channels 1 --subscribers 5000 --rate 200 --events 400 --threads 2 --publishers 8 --drain-seconds 40 --max-seconds 120" ;;
    b) echo "--mode live --channels 1000 --subscribers 5000 --rate 1000 --events 10000 --threads 2 --publishers 8 --drain-seconds 10 --max-seconds 60" ;;
    c) echo "--mode idle --channels 100 --subscribers 19000 --events 0 --threads 2 --handshakes-in-flight 400 --source-addrs 127.0.0.1,127.0.0.2 --idle-hold-seconds 5 --settle-seconds 2 --max-seconds 90" ;;
    d) echo "--mode saturate --channels 1 --subscribers 5000 --rate 25 --step-seconds 3 --max-steps 6 --max-lag-ms 1000 --threads 2 --publishers 8 --drain-seconds 10 --max-seconds 170" ;;
    f) echo "--mode live --channels 1 --subscribers 5000 --rate 15 --events 150 --threads 2 --publishers 8 --drain-seconds 20 --max-seconds 90" ;;
    g) echo "--mode live --channels 1 --subscribers 1000 --rate 5 --events 75 --threads 2 --publishers 8 --drain-seconds 20 --max-seconds 90" ;;
    e) echo "--mode resume --channels 1 --subscribers 1000 --events 1000 --rate 0 --threads 2 --publishers 8 --max-seconds 90" ;;
  esac
}

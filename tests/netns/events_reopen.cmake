# SIGHUP reopens the events file (label netns, root; included by tests/netns/CMakeLists.txt):
# after logrotate moved the file away, ftpalgd starts a new one at the configured path.
add_test(NAME ftpalgd_events_reopen_on_sighup COMMAND unshare -n sh -c [=[
  d=$(mktemp -d) || exit 1
  trap 'rm -rf "$d"' EXIT
  "$1" --kernel-mode pinhole --queues 9 --events "$d/events.jsonl" >"$d/log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q 'serving queue' "$d/log" && break; sleep 0.1; done
  [ -e "$d/events.jsonl" ] || { cat "$d/log"; kill -INT $pid; exit 1; }
  mv "$d/events.jsonl" "$d/events.jsonl.1"
  kill -HUP $pid
  for _ in $(seq 50); do [ -e "$d/events.jsonl" ] && break; sleep 0.1; done
  kill -INT $pid
  wait $pid
  cat "$d/log"
  [ -e "$d/events.jsonl" ] || { echo "no new events file after SIGHUP"; exit 1; }
  grep -q 'events file .*events.jsonl reopened' "$d/log" || exit 1
  ]=] sh $<TARGET_FILE:ftpalgd>)
set_tests_properties(ftpalgd_events_reopen_on_sighup PROPERTIES LABELS netns TIMEOUT 60)

#include "cli/takeover_cmd.h"

#include <cstdio>

#include "cli/status_cmd.h"

namespace ftpalg::cli {

int runTakeover(const TakeoverOptions& o) {
  std::string answer;
  if (Status s = queryControl(o.socket, "takeover", o.timeoutMs, answer); !s.ok()) {
    std::fprintf(stderr, "ftpalg: takeover: %s\n", s.message().c_str());
    return 2;
  }
  std::printf("%s\n", answer.c_str());
  // The error document carries "error"; a run's answer "takeover".
  return answer.find("\"takeover\":{") != std::string::npos ? 0 : 2;
}

}  // namespace ftpalg::cli

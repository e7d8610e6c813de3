// Options of `ftpalg replay` and their translation into the engine's configuration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/nat_map.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/status.h"

namespace ftpalg::cli {

// What the user asked `ftpalg replay` for, as given on the command line.
struct ReplayOptions {
  std::string inPath;
  std::string outPath;             // empty: no output capture
  std::string eventsPath;          // empty: no events; "-": stdout
  std::vector<std::string> snat;   // "PRIVATE=PUBLIC"
  std::vector<std::string> dnat;   // "PUBLIC=PRIVATE"
  std::vector<std::string> ports;  // extra control ports, each "2121" or "2121,2122"
  bool allowBounce = false;
  bool allowLowPorts = false;
  bool allowLongForms = false;
  bool quiet = false;  // no summary on stderr
};

// "2121" -> 2121. Whole string, decimal, 1..65535, no sign or spaces.
Status parsePort(std::string_view text, uint16_t& out);

// The engine configuration for replay: control ports 21 plus --ports (at most
// EngineConfig::controlPorts.size() in all), policy flags, and the capture settings
// (AckSpace::Original, resyncOnGap, evictWhenFull) because captures are taken without a
// gateway in the path.
Status makeEngineConfig(const ReplayOptions& options, core::EngineConfig& out);

// Fills `out` from --snat and --dnat.
Status makeNatMap(const ReplayOptions& options, NatMap& out);

}  // namespace ftpalg::cli

#include "cli/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <span>

#include "cli/capture_reader.h"
#include "cli/capture_writer.h"
#include "cli/frame_output.h"
#include "cli/nat_map.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "ftpalg/report/event_json.h"

namespace ftpalg::cli {
namespace {

// The daemon expires sessions on a timer; replay does it on capture time, once a second.
constexpr uint64_t kExpireIntervalNs = 1'000'000'000;

// JSON-lines event output ("-" is stdout). Events are counted even without a file.
class EventSink {
 public:
  EventSink() = default;
  ~EventSink() {
    if (file_ != nullptr && file_ != stdout) std::fclose(file_);
  }
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  Status open(const std::string& path) {
    path_ = path;
    if (path.empty()) return {};
    file_ = path == "-" ? stdout : std::fopen(path.c_str(), "w");
    if (file_ == nullptr) {
      return Status::error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    return {};
  }

  // Writes and counts events; timestamps past `maxTsNs` (the final expire) are clamped to it.
  void write(std::span<const core::Event> events, uint64_t maxTsNs, ReplayReport& report) {
    buffer_.clear();
    for (core::Event event : events) {
      if (event.tsNs > maxTsNs) event.tsNs = maxTsNs;
      ++report.events;
      const auto kind = static_cast<size_t>(event.kind);
      const auto verdict = static_cast<size_t>(event.verdict);
      if (kind < report.eventsBy.size() && verdict < report.eventsBy[kind].size()) {
        ++report.eventsBy[kind][verdict];
      }
      if (file_ == nullptr) continue;
      report::appendEventJson(event, buffer_);
      buffer_.push_back('\n');
    }
    if (file_ != nullptr && buffer_.size() != 0) {
      std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
    }
  }

  Status close() {
    if (file_ == nullptr) return {};
    const bool failed = std::fflush(file_) != 0 || std::ferror(file_) != 0;
    const int err = errno;
    if (file_ != stdout) std::fclose(file_);
    file_ = nullptr;
    if (failed) return Status::error(fmt::format("writing {}: {}", path_, std::strerror(err)));
    return {};
  }

 private:
  std::string path_;
  FILE* file_ = nullptr;
  fmt::memory_buffer buffer_;
};

std::span<const core::PacketAction> packetsOf(const core::Actions& a) {
  return std::span(a.packets).first(std::min(a.packetCount, a.packets.size()));
}

std::span<const core::Event> eventsOf(const core::Actions& a) {
  return std::span(a.events).first(std::min(a.eventCount, a.events.size()));
}

}  // namespace

Status runReplay(const ReplayOptions& options, ReplayReport& report) {
  core::EngineConfig config;
  if (Status s = makeEngineConfig(options, config); !s.ok()) return s;
  NatMap nat;
  if (Status s = makeNatMap(options, nat); !s.ok()) return s;
  if (options.outPath == "-" && options.eventsPath == "-") {
    return Status::error("--out and --events cannot both be stdout");
  }

  CaptureReader reader;
  if (Status s = reader.open(options.inPath); !s.ok()) return s;
  CaptureWriter writer;
  if (!options.outPath.empty()) {
    if (Status s = writer.open(options.outPath, reader.dlt()); !s.ok()) return s;
  }
  EventSink events;
  if (Status s = events.open(options.eventsPath); !s.ok()) return s;

  report = ReplayReport{};
  report.input = options.inPath;
  report.linkName = linkTypeName(reader.linkType());
  report.wroteOutput = !options.outPath.empty();

  core::Engine engine(config, &nat);
  FrameOutput output(options.outPath.empty() ? nullptr : &writer);
  const auto actions = std::make_unique<core::Actions>();
  constexpr uint64_t kNoClamp = std::numeric_limits<uint64_t>::max();

  Frame frame;
  uint64_t lastTsNs = 0;
  uint64_t nextExpireNs = 0;
  while (true) {
    const ReadResult read = reader.next(frame);
    if (read == ReadResult::End) break;
    if (read == ReadResult::Error) {
      report.captureError = reader.error();
      break;
    }
    lastTsNs = frame.tsNs;
    if (frame.tsNs >= nextExpireNs) {
      if (nextExpireNs != 0) {
        bool more = true;
        while (more) {
          actions->clear();
          more = engine.expire(frame.tsNs, *actions);
          events.write(eventsOf(*actions), frame.tsNs, report);
          output.applyReleased(packetsOf(*actions), frame.tsNs);
        }
      }
      nextExpireNs = frame.tsNs + kExpireIntervalNs;
    }
    if (frame.ip.empty()) {
      ++report.nonIp;
      output.passThrough(frame);
      continue;
    }
    const core::PacketParse parsed = core::parsePacket(frame.ip);
    if (parsed.error != core::PacketError::None) {
      ++report.packetErrors[static_cast<size_t>(parsed.error)];
      output.passThrough(frame);
      continue;
    }
    if (!engine.isControl(parsed.view)) {
      ++report.nonControl;
      output.passThrough(frame);
      continue;
    }
    ++report.control;
    actions->clear();
    engine.onSegment({&parsed.view, frame.number}, frame.tsNs, *actions);
    events.write(eventsOf(*actions), kNoClamp, report);
    output.apply(packetsOf(*actions), frame);
  }

  // End of input: end every session; what is still held is dropped.
  bool more = true;
  while (more) {
    actions->clear();
    more = engine.expire(kNoClamp, *actions);
    events.write(eventsOf(*actions), lastTsNs, report);
    output.applyReleased(packetsOf(*actions), lastTsNs, /*atEnd=*/true);
  }
  output.finish();

  report.framesRead = reader.framesRead();
  report.truncatedFrames = reader.truncatedFrames();
  report.output = output.stats();
  for (size_t c = 0; c < report.counters.size(); ++c) {
    report.counters[c] = engine.counter(static_cast<core::Counter>(c));
  }
  if (Status s = writer.close(); !s.ok()) return s;
  return events.close();
}

}  // namespace ftpalg::cli

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

// One replay run: the engine and the sinks of its actions (rewritten capture, events, report).
class ReplayRun {
 public:
  ReplayRun(const core::EngineConfig& config, NatMap& nat, CaptureWriter* writer, EventSink& events,
            ReplayReport& report)
      : engine_(config, &nat), output_(writer), events_(events), report_(report) {}

  // One captured frame: expiry on capture time, then the engine if it is FTP control traffic.
  void onFrame(const Frame& frame) {
    lastTsNs_ = frame.tsNs;
    if (frame.tsNs >= nextExpireNs_) {
      if (nextExpireNs_ != 0) expireAll(frame.tsNs, frame.tsNs, /*atEnd=*/false);
      nextExpireNs_ = frame.tsNs + kExpireIntervalNs;
    }
    if (frame.ip.empty()) {
      ++report_.nonIp;
      output_.passThrough(frame);
      return;
    }
    const core::PacketParse parsed = core::parsePacket(frame.ip);
    if (parsed.error != core::PacketError::None) {
      ++report_.packetErrors[static_cast<size_t>(parsed.error)];
      output_.passThrough(frame);
      return;
    }
    if (!engine_.isControl(parsed.view)) {
      ++report_.nonControl;
      output_.passThrough(frame);
      return;
    }
    ++report_.control;
    actions_->clear();
    engine_.onSegment({&parsed.view, frame.number}, frame.tsNs, *actions_);
    events_.write(eventsOf(*actions_), kNoClamp, report_);
    output_.apply(packetsOf(*actions_), frame);
  }

  // End of input: end every session; what is still held is dropped.
  void finish(const CaptureReader& reader) {
    expireAll(kNoClamp, lastTsNs_, /*atEnd=*/true);
    output_.finish();
    report_.framesRead = reader.framesRead();
    report_.truncatedFrames = reader.truncatedFrames();
    report_.output = output_.stats();
    for (size_t c = 0; c < report_.counters.size(); ++c) {
      report_.counters[c] = engine_.counter(static_cast<core::Counter>(c));
    }
  }

 private:
  static constexpr uint64_t kNoClamp = std::numeric_limits<uint64_t>::max();

  // Expires sessions at engine time `nowNs`; what it emits is stamped no later than `tsNs`.
  void expireAll(uint64_t nowNs, uint64_t tsNs, bool atEnd) {
    bool more = true;
    while (more) {
      actions_->clear();
      more = engine_.expire(nowNs, *actions_);
      events_.write(eventsOf(*actions_), tsNs, report_);
      output_.applyReleased(packetsOf(*actions_), tsNs, atEnd);
    }
  }

  core::Engine engine_;
  FrameOutput output_;
  EventSink& events_;
  ReplayReport& report_;
  const std::unique_ptr<core::Actions> actions_ = std::make_unique<core::Actions>();
  uint64_t lastTsNs_ = 0;
  uint64_t nextExpireNs_ = 0;
};

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
  ReplayRun run(config, nat, options.outPath.empty() ? nullptr : &writer, events, report);
  Frame frame;
  while (true) {
    const ReadResult read = reader.next(frame);
    if (read == ReadResult::End) break;
    if (read == ReadResult::Error) {
      report.captureError = reader.error();
      break;
    }
    run.onFrame(frame);
  }
  run.finish(reader);
  if (Status s = writer.close(); !s.ok()) return s;
  return events.close();
}

}  // namespace ftpalg::cli

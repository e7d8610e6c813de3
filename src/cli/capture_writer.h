// CaptureWriter: writes a classic pcap file (nanosecond timestamps) with a given link type.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "ftpalg/status.h"

struct pcap;
struct pcap_dumper;

namespace ftpalg::cli {

// Snapshot length written into output captures.
inline constexpr int kOutputSnaplen = 262144;

// Writes frames to a pcap file. Not copyable.
class CaptureWriter {
 public:
  CaptureWriter() = default;
  ~CaptureWriter();
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;

  // Creates `path` ("-" is stdout) for frames of libpcap link type `dlt`.
  Status open(const std::string& path, int dlt);

  // Appends one frame: `captured` bytes of a frame that was `wireLen` bytes long on the wire.
  void write(uint64_t tsNs, std::span<const uint8_t> captured, uint32_t wireLen);

  // Flushes and closes; reports a write error (disk full, ...). Safe to call twice.
  Status close();

  [[nodiscard]] uint64_t framesWritten() const { return framesWritten_; }

 private:
  std::string path_;
  pcap* pcap_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  uint64_t framesWritten_ = 0;
};

}  // namespace ftpalg::cli

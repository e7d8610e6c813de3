// CaptureReader: reads a pcap or pcapng file with libpcap and yields each frame with its
// nanosecond timestamp, link-layer header and IP packet.
//
// Ownership: a Frame's spans point into libpcap's buffer and stay valid until the next call of
// next() or until the reader is destroyed.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "cli/link_layer.h"
#include "ftpalg/status.h"

struct pcap;

namespace ftpalg::cli {

// One captured frame.
struct Frame {
  uint64_t number = 0;            // 1-based position in the capture (the engine's handle)
  uint64_t tsNs = 0;              // capture time, nanoseconds since the epoch
  uint32_t wireLen = 0;           // length on the wire (pcap "len")
  std::span<const uint8_t> data;  // captured bytes (pcap "caplen")
  std::span<const uint8_t> link;  // link-layer header: the bytes of data before the IP header
  std::span<const uint8_t> ip;    // IPv4/IPv6 packet; empty when the frame carries none

  // Cut short by the capture's snapshot length.
  [[nodiscard]] bool truncated() const { return data.size() < wireLen; }
};

// Outcome of CaptureReader::next().
enum class ReadResult : uint8_t {
  Frame,  // a frame was read
  End,    // clean end of the capture
  Error,  // the file is damaged here (error() says how); frames before it were good
};

// Reads a capture file frame by frame. Not copyable.
class CaptureReader {
 public:
  CaptureReader() = default;
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // Opens a pcap or pcapng file. Fails on an unreadable file or an unsupported link type.
  Status open(const std::string& path);

  // Reads the next frame into `frame`.
  ReadResult next(Frame& frame);

  [[nodiscard]] int dlt() const { return dlt_; }
  [[nodiscard]] LinkType linkType() const { return linkType_; }
  [[nodiscard]] uint64_t framesRead() const { return framesRead_; }
  // Frames whose captured length is below their wire length.
  [[nodiscard]] uint64_t truncatedFrames() const { return truncatedFrames_; }
  // libpcap's description of the damage after next() returned Error, else empty.
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  pcap* pcap_ = nullptr;
  int dlt_ = 0;
  LinkType linkType_ = LinkType::Ethernet;
  uint64_t framesRead_ = 0;
  uint64_t truncatedFrames_ = 0;
  std::string error_;
};

}  // namespace ftpalg::cli

#include "cli/capture_reader.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

namespace ftpalg::cli {

CaptureReader::~CaptureReader() {
  if (pcap_ != nullptr) pcap_close(pcap_);
}

Status CaptureReader::open(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) {
    return Status::error(fmt::format("cannot read {}: {}", path, withoutPathPrefix(errbuf, path)));
  }
  const int dlt = pcap_datalink(p);
  const auto type = linkTypeFromDlt(dlt);
  if (!type) {
    const char* name = pcap_datalink_val_to_name(dlt);
    pcap_close(p);
    return Status::error(fmt::format(
        "{}: unsupported link type {} ({}); supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, "
        "IPV4, IPV6, NULL, LOOP",
        path, name != nullptr ? name : "unknown", dlt));
  }
  if (pcap_ != nullptr) pcap_close(pcap_);
  pcap_ = p;
  dlt_ = dlt;
  linkType_ = *type;
  framesRead_ = 0;
  truncatedFrames_ = 0;
  error_.clear();
  return {};
}

ReadResult CaptureReader::next(Frame& frame) {
  if (pcap_ == nullptr || !error_.empty()) return ReadResult::Error;
  pcap_pkthdr* header = nullptr;
  const u_char* bytes = nullptr;
  const int rc = pcap_next_ex(pcap_, &header, &bytes);
  if (rc == PCAP_ERROR_BREAK) return ReadResult::End;
  if (rc != 1) {
    // PCAP_ERROR: a damaged or cut-off record. libpcap cannot resynchronise after it.
    error_ = pcap_geterr(pcap_);
    if (error_.empty()) error_ = "unreadable record";
    return ReadResult::Error;
  }
  ++framesRead_;
  frame.number = framesRead_;
  frame.tsNs = static_cast<uint64_t>(header->ts.tv_sec) * 1'000'000'000ULL +
               static_cast<uint64_t>(header->ts.tv_usec);
  frame.wireLen = header->len;
  frame.data = std::span<const uint8_t>(bytes, header->caplen);
  if (frame.truncated()) ++truncatedFrames_;
  const IpLocation loc = locateIp(linkType_, frame.data);
  if (loc.ipLength == 0) {
    frame.link = frame.data;
    frame.ip = {};
  } else {
    frame.link = frame.data.first(loc.ipOffset);
    frame.ip = frame.data.subspan(loc.ipOffset, loc.ipLength);
  }
  return ReadResult::Frame;
}

}  // namespace ftpalg::cli

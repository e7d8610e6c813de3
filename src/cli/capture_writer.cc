#include "cli/capture_writer.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ftpalg::cli {

CaptureWriter::~CaptureWriter() { (void)close(); }

Status CaptureWriter::open(const std::string& path, int dlt) {
  (void)close();
  pcap* p = pcap_open_dead_with_tstamp_precision(dlt, kOutputSnaplen, PCAP_TSTAMP_PRECISION_NANO);
  if (p == nullptr) return Status::error(fmt::format("cannot write {}: out of memory", path));
  pcap_dumper* d = pcap_dump_open(p, path.c_str());
  if (d == nullptr) {
    Status s = Status::error(
        fmt::format("cannot write {}: {}", path, withoutPathPrefix(pcap_geterr(p), path)));
    pcap_close(p);
    return s;
  }
  path_ = path;
  pcap_ = p;
  dumper_ = d;
  framesWritten_ = 0;
  return {};
}

void CaptureWriter::write(uint64_t tsNs, std::span<const uint8_t> captured, uint32_t wireLen) {
  if (dumper_ == nullptr) return;
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(tsNs / 1'000'000'000ULL);
  // With nanosecond precision libpcap stores nanoseconds in tv_usec.
  header.ts.tv_usec = static_cast<suseconds_t>(tsNs % 1'000'000'000ULL);
  header.caplen = static_cast<bpf_u_int32>(captured.size());
  header.len = wireLen < header.caplen ? header.caplen : wireLen;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, captured.data());
  ++framesWritten_;
}

Status CaptureWriter::close() {
  if (dumper_ == nullptr) return {};
  Status result;
  FILE* file = pcap_dump_file(dumper_);
  if (pcap_dump_flush(dumper_) != 0 || std::ferror(file) != 0) {
    result = Status::error(fmt::format("writing {}: {}", path_, std::strerror(errno)));
  }
  pcap_dump_close(dumper_);
  pcap_close(pcap_);
  dumper_ = nullptr;
  pcap_ = nullptr;
  return result;
}

}  // namespace ftpalg::cli

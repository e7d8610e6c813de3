// Helpers for the CLI tests: temporary files, writing captures with libpcap, reading them back.
#pragma once

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/capture_reader.h"

namespace ftpalg::test {

using cli::CaptureReader;
using cli::Frame;
using cli::ReadResult;

// A directory removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("ftpalg-") + info->test_suite_name() + "-" + info->name() + "-" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A frame to write: bytes, capture time and wire length (0 = the byte count).
struct TestFrame {
  std::vector<uint8_t> bytes;
  uint64_t tsNs = 0;
  uint32_t wireLen = 0;
};

// Writes a classic pcap with libpcap (microsecond or nanosecond timestamps).
inline void writeCapture(const std::string& path, int dlt, const std::vector<TestFrame>& frames,
                         bool nano = true) {
  pcap_t* p = pcap_open_dead_with_tstamp_precision(
      dlt, 262144, nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
  ASSERT_NE(p, nullptr);
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  ASSERT_NE(d, nullptr) << pcap_geterr(p);
  for (const TestFrame& f : frames) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(f.tsNs / 1'000'000'000);
    const uint64_t frac = f.tsNs % 1'000'000'000;
    h.ts.tv_usec = static_cast<suseconds_t>(nano ? frac : frac / 1000);
    h.caplen = static_cast<bpf_u_int32>(f.bytes.size());
    h.len = f.wireLen != 0 ? f.wireLen : h.caplen;
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.bytes.data());
  }
  pcap_dump_close(d);
  pcap_close(p);
}

// A frame read back, with copies of its parts.
struct ReadFrame {
  uint64_t number = 0;
  uint64_t tsNs = 0;
  uint32_t wireLen = 0;
  std::vector<uint8_t> data;
  std::vector<uint8_t> link;
  std::vector<uint8_t> ip;
};

// Everything CaptureReader yields for `path`; the reader's final state stays in `reader`.
inline std::vector<ReadFrame> readAll(CaptureReader& reader, const std::string& path,
                                      ReadResult* last = nullptr) {
  std::vector<ReadFrame> out;
  const Status s = reader.open(path);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return out;
  Frame f;
  ReadResult r;
  while ((r = reader.next(f)) == ReadResult::Frame) {
    out.push_back({f.number,
                   f.tsNs,
                   f.wireLen,
                   {f.data.begin(), f.data.end()},
                   {f.link.begin(), f.link.end()},
                   {f.ip.begin(), f.ip.end()}});
  }
  if (last != nullptr) *last = r;
  return out;
}

inline std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void writeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace ftpalg::test

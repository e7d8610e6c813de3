// Session snapshot files (src/daemon/session_store.cc): atomic replace, erase, read back at
// start, leftovers of an interrupted write removed, the directory created 0700; and what one
// write costs.
#include "daemon/session_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

// A fresh directory on a tmpfs (/dev/shm, like /run) or else under /tmp, removed with
// everything in it at the end.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm/ftpalg-store-XXXXXX"
                                                       : "/tmp/ftpalg-store-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { (void)std::system(("rm -rf " + path).c_str()); }
};

core::FlowKey flow(uint16_t port) {
  return core::FlowKey{endpoint("198.18.0.2", port), endpoint("198.19.0.2", 21)};
}

std::map<std::string, std::vector<uint8_t>> readAll(daemon::SessionStore& s) {
  std::map<std::string, std::vector<uint8_t>> out;
  EXPECT_TRUE(s.forEach([&](std::string_view name, std::span<const uint8_t> b) {
                 out[std::string(name)] = std::vector<uint8_t>(b.begin(), b.end());
               }).ok());
  return out;
}

}  // namespace

TEST(SessionStore, StoreReplaceEraseAndReadBack) {
  TempDir t;
  const std::string dir = t.path + "/a/queue-3";
  daemon::SessionStore s(dir);
  ASSERT_TRUE(s.open().ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const std::vector<uint8_t> one{1, 2, 3};
  const std::vector<uint8_t> two{4, 5};
  ASSERT_TRUE(s.store(flow(40000), one).ok());
  ASSERT_TRUE(s.store(flow(40001), one).ok());
  ASSERT_TRUE(s.store(flow(40000), two).ok());
  auto all = readAll(s);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[daemon::SessionStore::fileName(flow(40000))], two);
  EXPECT_EQ(all[daemon::SessionStore::fileName(flow(40001))], one);
  ASSERT_TRUE(s.erase(flow(40001)).ok());
  ASSERT_TRUE(s.erase(flow(40001)).ok());  // none stored: fine
  EXPECT_EQ(readAll(s).size(), 1u);
  EXPECT_EQ(daemon::SessionStore::fileName(flow(40000)), "4-c6120002.9c40-c6130002.0015.snap");
}

TEST(SessionStore, LeftoverTemporaryFilesAreRemovedAndNotRead) {
  TempDir t;
  daemon::SessionStore s(t.path);
  ASSERT_TRUE(s.open().ok());
  { std::ofstream(t.path + "/4-x.snap.tmp") << "half"; }
  { std::ofstream(t.path + "/unrelated") << "x"; }
  EXPECT_TRUE(readAll(s).empty());
  EXPECT_NE(::access((t.path + "/4-x.snap.tmp").c_str(), F_OK), 0);
  EXPECT_EQ(::access((t.path + "/unrelated").c_str(), F_OK), 0);
}

TEST(SessionStore, DisabledStoreDoesNothing) {
  daemon::SessionStore s("");
  EXPECT_FALSE(s.enabled());
  EXPECT_TRUE(s.open().ok());
  EXPECT_TRUE(s.store(flow(1), std::vector<uint8_t>{1}).ok());
  EXPECT_TRUE(readAll(s).empty());
}

TEST(SessionStore, WriteCost) {
  TempDir t;
  daemon::SessionStore s(t.path);
  ASSERT_TRUE(s.open().ok());
  const std::vector<uint8_t> snap(390, 0x5a);  // an IPv4 session at rest
  constexpr int kWrites = 2000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(s.store(flow(static_cast<uint16_t>(40000 + i % 16)), snap).ok());
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      kWrites;
  std::printf("session snapshot write (390 bytes, write + rename, %s): %.1f us\n", t.path.c_str(),
              us);
  EXPECT_LT(us, 20000.0);  // generous: a loaded machine
}

}  // namespace ftpalg::test

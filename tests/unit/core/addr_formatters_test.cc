// Tests for src/core/addr_formatters.cc: exact text, documented buffer sizes, refusals, and
// that every formatted text parses back to the same endpoint.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/ftp_parser.h"
#include "tests/unit/core/wire_test_support.h"

namespace ftpalg::core {
namespace {

// Formatters

Endpoint v4Ep(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return Endpoint{IpAddr::v4(a, b, c, d), port};
}
Endpoint v6Ep(std::string_view text, uint16_t port) {
  Endpoint e;
  EXPECT_TRUE(parseIp(text, e.addr));
  e.port = port;
  return e;
}

std::string fmt(size_t (*f)(const Endpoint&, std::span<char>), const Endpoint& ep) {
  std::array<char, 128> buf{};
  return std::string(buf.data(), f(ep, buf));
}

TEST(FtpParserFormat, PortText) {
  EXPECT_EQ(fmt(formatPortText, v4Ep(192, 168, 1, 2, 1025)), "192,168,1,2,4,1");
}

TEST(FtpParserFormat, PortTextWorstCaseFitsDocumentedSize) {
  std::array<char, 24> buf{};
  EXPECT_EQ(formatPortText(v4Ep(255, 255, 255, 255, 65535), buf), 23U);
}

TEST(FtpParserFormat, PortTextTooSmall) {
  std::array<char, 10> buf{};
  EXPECT_EQ(formatPortText(v4Ep(192, 168, 1, 2, 1025), buf), 0U);
}

TEST(FtpParserFormat, PortTextRejectsV6AndPortZero) {
  EXPECT_EQ(fmt(formatPortText, v6Ep("::1", 21)), "");
  EXPECT_EQ(fmt(formatPortText, v4Ep(1, 2, 3, 4, 0)), "");
}

TEST(FtpParserFormat, EprtText) {
  std::array<char, 64> buf{};
  EXPECT_EQ(std::string(buf.data(), formatEprtText(v4Ep(192, 168, 1, 2, 1025), '|', buf)),
            "|1|192.168.1.2|1025|");
  EXPECT_EQ(std::string(buf.data(), formatEprtText(v6Ep("2001:db8::1", 1025), '!', buf)),
            "!2!2001:db8::1!1025!");
}

TEST(FtpParserFormat, EprtTextWorstCaseFitsDocumentedSize) {
  std::array<char, 64> buf{};
  EXPECT_GT(formatEprtText(v6Ep("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), '|', buf), 0U);
  EXPECT_GT(formatEprtText(v6Ep("::ffff:255.255.255.255", 65535), '|', buf), 0U);
}

TEST(FtpParserFormat, EprtTextRefusesDelimiterInsideAddress) {
  std::array<char, 64> buf{};
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), '.', buf), 0U);
  EXPECT_EQ(formatEprtText(v6Ep("2001:db8::1", 5), ':', buf), 0U);
  EXPECT_EQ(formatEprtText(v6Ep("2001:db8::a", 5), 'a', buf), 0U);
}

TEST(FtpParserFormat, EprtTextRefusesBadDelimiterOrPort) {
  std::array<char, 64> buf{};
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), ' ', buf), 0U);
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), '7', buf), 0U);
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), '\x7f', buf), 0U);
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 0), '|', buf), 0U);
  EXPECT_EQ(formatEprtText(Endpoint{}, '|', buf), 0U);
}

TEST(FtpParserFormat, Text229) {
  std::array<char, 12> buf{};
  EXPECT_EQ(std::string(buf.data(), format229Text(1025, '|', buf)), "|||1025|");
  EXPECT_EQ(std::string(buf.data(), format229Text(65535, '!', buf)), "!!!65535!");
  EXPECT_EQ(format229Text(0, '|', buf), 0U);
  EXPECT_EQ(format229Text(21, '1', buf), 0U);
  std::array<char, 4> small{};
  EXPECT_EQ(format229Text(21, '|', small), 0U);
}

TEST(FtpParserFormat, LongText) {
  EXPECT_EQ(fmt(formatLongText, v4Ep(1, 2, 3, 4, 1025)), "4,4,1,2,3,4,2,4,1");
  EXPECT_EQ(fmt(formatLongText, v6Ep("2001:db8::1", 1025)),
            "6,16,32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1");
  std::array<char, 80> buf{};
  EXPECT_GT(formatLongText(v6Ep("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), buf), 0U);
  EXPECT_EQ(formatLongText(v4Ep(1, 2, 3, 4, 0), buf), 0U);
}

TEST(FtpParserFormat, EveryFormatReparsesToTheSameEndpoint) {
  const std::vector<Endpoint> eps = {v4Ep(0, 0, 0, 0, 1),
                                     v4Ep(255, 255, 255, 255, 65535),
                                     v4Ep(10, 0, 0, 1, 256),
                                     v4Ep(192, 168, 1, 2, 1025),
                                     v6Ep("::", 1),
                                     v6Ep("::1", 21),
                                     v6Ep("2001:db8::1", 6446),
                                     v6Ep("::ffff:1.2.3.4", 80),
                                     v6Ep("fe80::abcd", 65535),
                                     v6Ep("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1)};
  for (const Endpoint& ep : eps) {
    std::array<char, 80> buf{};
    if (ep.addr.family == Family::V4) {
      const size_t n = formatPortText(ep, buf);
      const std::string port = "PORT " + std::string(buf.data(), n);
      EXPECT_EQ(parsePort(port).ep, ep) << port;
      const std::string pasv = "227 Entering Passive Mode (" + std::string(buf.data(), n) + ").";
      EXPECT_EQ(parse227(pasv).ep, ep) << pasv;
    }
    for (char d : {'|', '!', '~', '#', 'z'}) {
      const size_t n = formatEprtText(ep, d, buf);
      if (n == 0) continue;
      const std::string eprt = "EPRT " + std::string(buf.data(), n);
      const AddrParse r = parseEprt(eprt);
      EXPECT_EQ(r.status, ParseStatus::Ok) << eprt;
      EXPECT_EQ(r.ep, ep) << eprt;
      EXPECT_EQ(r.delim, d);
      const std::string epsv = "229 Entering Extended Passive Mode (" +
                               std::string(buf.data(), format229Text(ep.port, d, buf)) + ")";
      EXPECT_EQ(parse229(epsv).ep.port, ep.port) << epsv;
    }
    const size_t n = formatLongText(ep, buf);
    const std::string lprt = "LPRT " + std::string(buf.data(), n);
    EXPECT_EQ(parseLprt(lprt).ep, ep) << lprt;
    const std::string lpsv = "228 Entering Long Passive Mode (" + std::string(buf.data(), n) + ")";
    EXPECT_EQ(parse228(lpsv).ep, ep) << lpsv;
  }
}

}  // namespace
}  // namespace ftpalg::core

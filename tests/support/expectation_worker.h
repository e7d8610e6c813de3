// Test support: a QueueWorker in expectation mode whose ExpectationAdmitter runs on a fake
// expectation backend `Backend` (default-constructible, or constructed from the FakeQueue), fed
// by one control connection: a client talking to 198.51.100.7:21, which DNAT sends to
// 10.0.0.9:21, seen at the confirm hook (both NATs done) with its conntrack entry. Header-only
// (the daemon library is linked only into the unit test binary).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <type_traits>

#include "daemon/expectation_admitter.h"
#include "daemon/queue_worker.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_ct_nest.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

// The fixture; derive a test class from ExpectationWorkerTest<YourBackend>.
template <typename Backend>
class ExpectationWorkerTest : public ::testing::Test {
 protected:
  const core::Endpoint client_ = endpoint("198.18.0.2:40000");
  const core::Endpoint public_ = endpoint("198.51.100.7:21");
  const core::Endpoint real_ = endpoint("10.0.0.9:21");
  const kernel::CtEntry entry_{{client_, public_}, {real_, client_}};

  void SetUp() override {
    daemon::WorkerSettings s;
    s.expectationMode = true;
    s.queue.conntrack = true;
    s.engine.kernelSeqAdjust = true;
    worker_ = std::make_unique<daemon::QueueWorker>(
        s, events_, queue_, [this, &s](daemon::WorkerLog& log) {
          std::unique_ptr<Backend> b = makeBackend();
          backend_ = b.get();
          return std::make_unique<daemon::ExpectationAdmitter>(std::move(b), s.engine, log);
        });
    ASSERT_TRUE(worker_->open().ok());
    // At the confirm hook both NATs are done.
    conn_.setAddresses(client_, real_, public_, client_);
    conn_.setCt(fakeCtNest(entry_));
  }

  FakeQueue queue_;
  daemon::EventSink events_;
  Backend* backend_ = nullptr;  // owned by the worker's admitter
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};

 private:
  std::unique_ptr<Backend> makeBackend() {
    if constexpr (std::is_constructible_v<Backend, const FakeQueue&>) {
      return std::make_unique<Backend>(queue_);
    } else {
      return std::make_unique<Backend>();
    }
  }
};

}  // namespace ftpalg::test

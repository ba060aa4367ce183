// ExportStream: a whole domain, in one of the export formats, as the body of
// one HTTP response (GET /v1/domains/{d}/export).
//
//   scan thread:  Directory::ScanChanges(from 0, no tombstones, the caller's
//                 view), one read transaction = one consistent snapshot
//                   └─ rows ─► ExportFormat::Entry ─► pieces of ~256 KiB
//                                                        │ at most 4 queued
//   session:      Next() ◄──────────────────────────────┘ ─► HTTP chunks
//
// A slow client slows the scan (the queue is bounded), so memory stays
// bounded whatever the domain's size; a client that goes away stops it.
// The snapshot means a contact changed during the export appears once, in
// the state it had when the export began.
//
// Thread-safety: Next() is called by one session at a time; the scan runs
// on the stream's own thread, joined by the destructor.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "galsync/directory.h"
#include "galsync/export.h"
#include "server/router.h"

namespace galsync::server {

class ExportStream final : public ResponseStream {
 public:
  // Starts the scan. `running` counts the exports in progress; the caller
  // has counted this one, and the stream takes it off when destroyed (its
  // response was sent, or its client went away). `executor` is the
  // session's: Next() waits on it.
  ExportStream(Directory& dir, std::string domain, View view,
               ExportFormat format, boost::asio::any_io_executor executor,
               std::atomic<int>& running);
  ~ExportStream() override;

  boost::asio::awaitable<Result<std::string>> Next() override;

  static constexpr size_t kPieceBytes = 256 * 1024;
  static constexpr size_t kMaxQueuedPieces = 4;

 private:
  struct Shared;
  std::shared_ptr<Shared> s_;
  std::atomic<int>& running_;
};

}  // namespace galsync::server

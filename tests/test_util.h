// Test helpers: temporary directories, a real galsyncd child process on an
// ephemeral loopback port, and a small keep-alive HTTP client.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "galsync/directory.h"

namespace galsync::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// An in-process Directory over a new SQLite store in `dir` (commits not
// fsynced), opened, with `domain` created. Null, with the test failed, if
// any step fails.
std::unique_ptr<Directory> OpenDirectory(const TempDir& dir,
                                         const std::string& domain);

// A raw connection to 127.0.0.1:port that sends `request`, reads the first
// response head (status line and headers; "100 Continue" counts), and then
// reads nothing more while it lives: a client that stalls. Its receive
// buffer is small, so a server writing to it backs up quickly. Waits at
// most 30 s for the head.
class HeldRequest {
 public:
  HeldRequest(uint16_t port, const std::string& request);
  ~HeldRequest();
  const std::string& head() const { return head_; }

 private:
  int fd_ = -1;
  std::string head_;
};

// A TCP load balancer on 127.0.0.1:<ephemeral port> that hands each new
// connection to the next of `backends` in turn (round robin) and relays
// bytes both ways until either side closes.
class RoundRobinProxy {
 public:
  explicit RoundRobinProxy(std::vector<uint16_t> backends);
  ~RoundRobinProxy();
  uint16_t port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

// A galsyncd process serving on 127.0.0.1:<ephemeral port>.
class ServerProcess {
 public:
  // Starts galsyncd with `--data-dir dir --listen 127.0.0.1:0` plus `args`,
  // and waits until it prints its address. Aborts the test on failure.
  ServerProcess(const std::string& data_dir,
                std::vector<std::string> args = {});
  ~ServerProcess();  // SIGTERM and wait

  uint16_t port() const { return port_; }
  // The server-wide admin key galsyncd printed when it first started on
  // this data directory (remembered across restarts within the test).
  const std::string& admin_key() const { return admin_key_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the process to exit; returns its wait status.
  int Kill(int sig);

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string admin_key_;
};

// A test client's replica: applies change-feed pages (docs/api.md) to a map
// of id -> contact JSON, keeps the token, and checks that seqs only grow.
struct PageReplica {
  std::map<std::string, std::string> contacts;
  std::string token;  // empty: no sync yet
  int64_t last_seq = 0;
  bool ordered = true;  // every change's seq was above the one before
  int pages = 0;

  // Applies one page body; returns its has_more.
  bool Apply(const std::string& page_body);
};

class HttpClient;

// Polls `probe` every 5 ms until it returns true, for at most 10 s; its
// last answer.
bool Eventually(const std::function<bool()>& probe);

// A contact's JSON with just an id and a given and family name.
std::string ContactJson(const std::string& id, const std::string& given,
                        const std::string& family);

// Whether a search of the domain at `domain_path` for `query` (URL-encoded)
// answers 200 with the contact `id` among its hits.
bool SearchFinds(HttpClient& c, const std::string& domain_path,
                 const std::string& query, const std::string& id);

// Fetches one page of at most `limit` changes of the domain at
// `domain_path` ("/v1/domains/NAME") after `r`'s token and applies it to
// `r`; returns has_more (false, with the test failed, if it was refused).
bool SyncStep(HttpClient& c, PageReplica& r, const std::string& domain_path,
              int limit);

// The live set of a domain (`domain_path` is "/v1/domains/NAME"), read by
// a full sync of its change feed: id -> contact JSON as PageReplica keeps it.
// Fails the test if a page is refused or out of order.
std::map<std::string, std::string> ServerLiveSet(HttpClient& c,
                                                 const std::string& domain_path);

// Runs galsyncd with `args` to completion (for start-up failures); returns
// its exit status and everything it printed.
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult RunGalsyncd(const std::vector<std::string>& args);
// Runs any program to completion, stdout and stderr together in `output`.
RunResult RunProgram(const std::string& program,
                     const std::vector<std::string>& args);
// Starts a program with its output discarded; the caller waits for it.
pid_t SpawnQuiet(const std::string& program,
                 const std::vector<std::string>& args);

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  boost::json::value json() const;             // parses body (or null)
  std::string error_code() const;              // body's error.code, if any
};

// A keep-alive HTTP/1.1 client to 127.0.0.1:port; reconnects as needed.
// With a key, every request carries "Authorization: Bearer <key>" unless its
// headers set Authorization themselves ("" there sends none).
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string key = "");
  // A client of `server` with its admin key.
  explicit HttpClient(const ServerProcess& server)
      : HttpClient(server.port(), server.admin_key()) {}
  ~HttpClient();
  HttpResult Get(const std::string& target,
                 std::map<std::string, std::string> headers = {});
  HttpResult Put(const std::string& target, const std::string& body,
                 std::map<std::string, std::string> headers = {});
  HttpResult Post(const std::string& target, const std::string& body,
                  std::map<std::string, std::string> headers = {});
  HttpResult Delete(const std::string& target,
                    std::map<std::string, std::string> headers = {});
  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body,
                  std::map<std::string, std::string> headers);
  // Sends raw bytes on a new connection and returns the raw response (or
  // whatever arrived before the server closed it).
  std::string SendRaw(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Creates a key of `domain` through `admin` (a server-wide admin client);
// `scopes` is a JSON array of scope names. Returns the bearer key and, if
// asked, its id. Fails the test if the server refuses.
std::string CreateKey(HttpClient& admin, const std::string& domain,
                      const std::string& scopes, std::string* id = nullptr);

}  // namespace galsync::testing

// TLS against a real galsyncd: HTTPS serving, the galsync client's
// certificate and host name checks, plain HTTP to a TLS port, and the
// refusal to serve plain HTTP off loopback. Certificates are made for each
// test with the openssl command.
#include <gtest/gtest.h>

#include "test_util.h"

namespace galsync::testing {
namespace {

// A self-signed certificate and its key, in `dir`, for the names in `san`
// (e.g. "IP:127.0.0.1,DNS:localhost").
struct Cert {
  std::string cert, key;
};
Cert MakeCert(const TempDir& dir, const std::string& name,
              const std::string& san) {
  Cert c{dir.file(name + ".crt"), dir.file(name + ".key")};
  auto r = RunProgram("/usr/bin/openssl",
                      {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                       "ec_paramgen_curve:P-256", "-nodes", "-keyout", c.key,
                       "-out", c.cert, "-days", "1", "-subj", "/CN=" + name,
                       "-addext", "subjectAltName=" + san});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return c;
}

RunResult Cli(const std::vector<std::string>& args) {
  return RunProgram(GALSYNC_CLI_PATH, args);
}

TEST(TlsTest, ServesHttpsAndTheClientChecksTheCertificate) {
  TempDir dir;
  const Cert good = MakeCert(dir, "server", "IP:127.0.0.1,DNS:localhost");
  const Cert other = MakeCert(dir, "other", "DNS:other.example");
  ServerProcess server(dir.file("data"),
                       {"--tls-cert", good.cert, "--tls-key", good.key,
                        "--demo", "50", "--durability", "normal"});
  ASSERT_NE(server.port(), 0);
  const std::string port = std::to_string(server.port());

  // Plain HTTP to the TLS port is told, in plain HTTP, to use https.
  HttpClient plain(server);
  auto res = plain.Get("/v1/health");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.error_code(), "tls_required");

  const std::string replica = dir.file("replica.db");
  auto init = [&](const std::string& url, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--replica", replica, "init", "--server",
                                     url, "--domain", "demo.example", "--key",
                                     server.admin_key()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  };
  // Trusting the server's certificate: by IP address and by host name.
  init("https://127.0.0.1:" + port, {"--ca-file", good.cert});
  auto r = Cli({"--replica", replica, "sync", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Cli({"--replica", replica, "status"});
  EXPECT_NE(r.output.find("50 (and 0 tombstones)"), std::string::npos) << r.output;
  init("https://localhost:" + port, {"--ca-file", good.cert});
  EXPECT_EQ(Cli({"--replica", replica, "sync", "--quiet"}).exit_code, 0);

  // Not trusting it: the system's CAs do not know a self-signed certificate.
  init("https://127.0.0.1:" + port, {});
  r = Cli({"--replica", replica, "sync", "--quiet"});
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("certificate not trusted: self-signed certificate"),
            std::string::npos)
      << r.output;
  // A trusted certificate for another name is refused as well.
  init("https://127.0.0.1:" + port, {"--ca-file", other.cert});
  r = Cli({"--replica", replica, "sync", "--quiet"});
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("certificate not trusted"), std::string::npos)
      << r.output;
  // And http:// to the TLS port gets the server's explanation.
  init("http://127.0.0.1:" + port, {});
  r = Cli({"--replica", replica, "sync", "--quiet"});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_NE(r.output.find("speaks HTTPS only"), std::string::npos) << r.output;
}

TEST(TlsTest, BadTlsSetupsAreRefusedAtStart) {
  TempDir dir;
  const Cert a = MakeCert(dir, "a", "IP:127.0.0.1");
  const Cert b = MakeCert(dir, "b", "IP:127.0.0.1");
  const std::string data = dir.file("data");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
  };
  const std::vector<Case> cases = {
      // Keys must not cross a network in clear.
      {{"--listen", "0.0.0.0:0"}, 2, "refusing plain HTTP on 0.0.0.0"},
      {{"--listen", "[::]:0"}, 2, "refusing plain HTTP on ::"},
      {{"--tls-cert", a.cert}, 2, "--tls-cert and --tls-key go together"},
      {{"--tls-cert", dir.file("missing.crt"), "--tls-key", a.key}, 1,
       "cannot load the certificate chain"},
      {{"--tls-cert", a.key, "--tls-key", a.key}, 1,
       "cannot load the certificate chain"},
      {{"--tls-cert", a.cert, "--tls-key", a.cert}, 1,
       "cannot load the private key"},
      {{"--tls-cert", a.cert, "--tls-key", b.key}, 1, "does not match"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--data-dir", data, "--listen",
                                     "127.0.0.1:0"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = RunGalsyncd(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace galsync::testing

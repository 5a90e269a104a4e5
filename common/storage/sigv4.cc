#include "common/storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>

#include "common/core/text.h"

namespace loadstar::sigv4 {
namespace {

using Digest = std::array<unsigned char, 32>;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

// OpenSSL's one-shot SHA-256 and HMAC fail only when the library itself is broken (no memory,
// no SHA-256 provider); there is no sensible way to go on signing after that.
[[noreturn]] void CryptoFailure(const char* what) {
  std::fprintf(stderr, "loadstar: OpenSSL %s failed; cannot sign requests\n", what);
  std::abort();
}

Digest Sha256(std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
    CryptoFailure("SHA-256");
  }
  return out;
}

Digest HmacSha256(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out.data(), &len) == nullptr ||
      len != out.size()) {
    CryptoFailure("HMAC-SHA256");
  }
  return out;
}

std::string_view AsView(const Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

std::string Hex(const Digest& d) {
  std::string out;
  out.reserve(d.size() * 2);
  for (unsigned char c : d) {
    out += kHexLower[c >> 4];
    out += kHexLower[c & 0xF];
  }
  return out;
}


// Trims the value and turns each run of spaces or tabs into one space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 0xF];
    }
  }
  return out;
}

std::string CanonicalQueryString(const std::vector<QueryParam>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const QueryParam& p : query) encoded.emplace_back(UriEncode(p.name, false), UriEncode(p.value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return Hex(Sha256(data)); }

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];  // 17 suffice; the rest silences -Wformat-truncation for out-of-range fields
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

bool ParseAmzDate(std::string_view text, std::chrono::system_clock::time_point* time) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return false;
  auto num = [&](size_t pos, size_t len, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  std::tm tm{};
  if (!num(0, 4, &tm.tm_year) || !num(4, 2, &tm.tm_mon) || !num(6, 2, &tm.tm_mday) || !num(9, 2, &tm.tm_hour) ||
      !num(11, 2, &tm.tm_min) || !num(13, 2, &tm.tm_sec)) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return false;
  *time = std::chrono::system_clock::from_time_t(t);
  return true;
}

Signature Sign(const Request& request, const Credentials& credentials, const Options& options,
               std::chrono::system_clock::time_point now) {
  const std::string amz_date = FormatAmzDate(now);
  const std::string date = amz_date.substr(0, 8);

  Signature sig;
  sig.headers.push_back({"x-amz-date", amz_date});
  if (options.send_content_sha256) sig.headers.push_back({"x-amz-content-sha256", request.payload_hash});
  if (!credentials.session_token.empty()) sig.headers.push_back({"x-amz-security-token", credentials.session_token});

  // Canonical headers: lower-case names in byte order; repeated names joined with ',' in the
  // order they were given.
  std::map<std::string, std::string> canonical;
  auto add = [&](std::string_view name, std::string_view value) {
    auto [it, inserted] = canonical.try_emplace(AsciiLower(name), CanonicalHeaderValue(value));
    if (!inserted) {
      it->second += ',';
      it->second += CanonicalHeaderValue(value);
    }
  };
  add("host", request.host);
  for (const Header& h : request.headers) add(h.name, h.value);
  for (const Header& h : sig.headers) add(h.name, h.value);

  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name;
    canonical_headers += ':';
    canonical_headers += value;
    canonical_headers += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }

  std::string path = request.path.empty() ? "/" : request.path;
  sig.canonical_request = request.method + '\n' + UriEncode(path, /*keep_slash=*/true) + '\n' +
                          CanonicalQueryString(request.query) + '\n' + canonical_headers + '\n' + signed_headers +
                          '\n' + request.payload_hash;

  const std::string scope = date + '/' + options.region + '/' + options.service + "/aws4_request";
  sig.string_to_sign =
      std::string(kAlgorithm) + '\n' + amz_date + '\n' + scope + '\n' + Sha256Hex(sig.canonical_request);

  Digest key = HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = HmacSha256(AsView(key), options.region);
  key = HmacSha256(AsView(key), options.service);
  key = HmacSha256(AsView(key), "aws4_request");
  const std::string signature = Hex(HmacSha256(AsView(key), sig.string_to_sign));

  sig.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + '/' + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + signature;
  sig.headers.push_back({"Authorization", sig.authorization});
  return sig;
}

}  // namespace loadstar::sigv4

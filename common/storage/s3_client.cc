#include "common/storage/s3_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <random>
#include <thread>

#include "common/core/log.h"
#include "common/storage/s3_internal.h"
#include "common/storage/sigv4.h"

namespace loadstar {
namespace s3_internal {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string ElementText(std::string_view xml, std::string_view name) {
  size_t pos = 0;
  std::string_view inner;
  return NextElement(xml, name, &pos, &inner) ? DecodeXmlText(inner) : std::string();
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

bool ValidRegion(std::string_view region) {
  if (region.empty()) return false;
  return std::all_of(region.begin(), region.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// "GET s3://bucket/key": the request an error message is about.
std::string Subject(const ErrorContext& c) {
  return std::string(c.method) + " s3://" + std::string(c.bucket) + "/" + std::string(c.key);
}

}  // namespace

// Finds the next <name>...</name> (or <name/>) at or after `*pos`; on success stores the element's
// inner text and moves `*pos` past it. Tags in S3's responses carry no attributes except the
// root's namespace, which is allowed for.
bool NextElement(std::string_view xml, std::string_view name, size_t* pos, std::string_view* inner) {
  const std::string open = "<" + std::string(name);
  size_t at = *pos;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    size_t after = at + open.size();
    if (after >= xml.size()) return false;
    char c = xml[after];
    if (c != '>' && c != ' ' && c != '/' && c != '\t' && c != '\n' && c != '\r') {
      at = after;  // a longer tag name that starts the same way, e.g. <KeyCount> for <Key>
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) return false;
    if (xml[gt - 1] == '/') {  // <name/>
      *inner = {};
      *pos = gt + 1;
      return true;
    }
    const std::string close = "</" + std::string(name) + ">";
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) return false;
    *inner = xml.substr(gt + 1, end - gt - 1);
    *pos = end + close.size();
    return true;
  }
  return false;
}

std::string DecodeXmlText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += text[i];  // a stray '&' is kept as it is
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp") {
      out += '&';
    } else if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (entity.size() > 1 && entity[0] == '#') {
      bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::string_view digits = entity.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || cp > 0x10FFFF) {
        out += text[i];
        continue;
      }
      AppendUtf8(cp, &out);
    } else {
      out += text[i];
      continue;
    }
    i = semi;
  }
  return out;
}

Result<ListPage> ParseListObjectsV2(std::string_view xml) {
  size_t pos = 0;
  std::string_view root;
  if (!NextElement(xml, "ListBucketResult", &pos, &root)) {
    return Status::Parse("ListObjectsV2 response is not a ListBucketResult: " +
                         std::string(xml.substr(0, std::min<size_t>(xml.size(), 200))));
  }
  ListPage page;
  size_t at = 0;
  std::string_view contents;
  while (NextElement(root, "Contents", &at, &contents)) {
    ObjectInfo info;
    info.key = ElementText(contents, "Key");
    std::string size = ElementText(contents, "Size");
    auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), info.size);
    if (size.empty() || ec != std::errc() || end != size.data() + size.size()) {
      return Status::Parse("ListObjectsV2 response has a bad <Size> '" + size + "' for key '" + info.key + "'");
    }
    info.etag = StripQuotes(ElementText(contents, "ETag"));
    page.objects.push_back(std::move(info));
  }
  // The top-level fields, read from the text between the <Contents> entries so that no key can
  // be mistaken for one.
  std::string outer;
  for (size_t from = 0;;) {
    size_t start = root.find("<Contents", from);
    size_t end = start == std::string_view::npos ? start : root.find("</Contents>", start);
    if (end == std::string_view::npos) {
      outer.append(root.substr(from));
      break;
    }
    outer.append(root.substr(from, start - from));
    from = end + std::string_view("</Contents>").size();
  }
  page.truncated = ElementText(outer, "IsTruncated") == "true";
  page.next_continuation_token = ElementText(outer, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Status::Parse("ListObjectsV2 response is truncated but has no NextContinuationToken");
  }
  return page;
}

ErrorBody ParseErrorBody(std::string_view xml) {
  ErrorBody e;
  size_t pos = 0;
  std::string_view inner;
  if (!NextElement(xml, "Error", &pos, &inner)) return e;
  e.code = ElementText(inner, "Code");
  e.message = ElementText(inner, "Message");
  e.region = ElementText(inner, "Region");
  return e;
}

Result<Addressing> Addressing::Make(const AwsSettings& settings) {
  Addressing a;
  a.region_ = settings.region;
  if (!ValidRegion(a.region_)) {
    return Status::InvalidArgument("'" + a.region_ + "' is not an AWS region name (e.g. us-east-1); check AWS_REGION");
  }
  if (settings.endpoint_url.empty()) {
    a.scheme_ = "https";
    a.aws_domain_ = StartsWith(a.region_, "cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    a.description_ = "AWS (region " + a.region_ + ")";
    return a;
  }
  std::string_view url = settings.endpoint_url;
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("S3 endpoint '" + settings.endpoint_url + "' is not usable (" + std::string(why) +
                                   "); set AWS_ENDPOINT_URL_S3 to e.g. http://127.0.0.1:9000");
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad("no scheme");
  a.scheme_ = std::string(url.substr(0, scheme_end));
  for (char& c : a.scheme_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (a.scheme_ != "http" && a.scheme_ != "https") return bad("only http and https are supported");
  std::string_view rest = url.substr(scheme_end + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty()) return bad("no host");
  if (authority.find('@') != std::string_view::npos) return bad("credentials do not belong in the endpoint URL");
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) return bad("query strings and fragments are not supported");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  // Drop a default port so the Host header matches what HTTP clients send by default.
  std::string host(authority);
  std::string default_port = a.scheme_ == "https" ? ":443" : ":80";
  if (host.size() > default_port.size() &&
      host.compare(host.size() - default_port.size(), default_port.size(), default_port) == 0 && host.back() != ']') {
    host.resize(host.size() - default_port.size());
  }
  a.host_ = std::move(host);
  a.base_path_ = std::string(path);
  a.description_ = a.scheme_ + "://" + a.host_ + a.base_path_;
  return a;
}

Location Addressing::For(std::string_view bucket, std::string_view key) const {
  Location loc;
  if (!host_.empty()) {
    loc.host = host_;
    loc.path = base_path_ + "/" + std::string(bucket);
    if (!key.empty()) loc.path += "/" + std::string(key);
    return loc;
  }
  if (bucket.find('.') != std::string_view::npos) {
    loc.host = "s3." + region_ + "." + aws_domain_;
    loc.path = "/" + std::string(bucket);
    if (!key.empty()) loc.path += "/" + std::string(key);
    return loc;
  }
  loc.host = std::string(bucket) + ".s3." + region_ + "." + aws_domain_;
  loc.path = "/" + std::string(key);
  return loc;
}

std::string Addressing::Url(const Location& location, const std::vector<sigv4::QueryParam>& query) const {
  std::string url = scheme_ + "://" + location.host + sigv4::UriEncode(location.path, /*keep_slash=*/true);
  if (!query.empty()) url += "?" + sigv4::CanonicalQueryString(query);
  return url;
}

Status StatusFromResponse(const HttpResponse& response, const ErrorContext& context) {
  const long http = response.status;
  ErrorBody body = ParseErrorBody(response.body);
  const std::string what = Subject(context);
  std::string detail = "HTTP " + std::to_string(http);
  if (!body.code.empty()) detail += " " + body.code;
  if (!body.message.empty()) detail += ": " + body.message;

  const AwsSettings* s = context.settings;
  const std::string region = s ? s->region : "";
  std::string bucket_region = body.region;
  if (const std::string* h = response.FindHeader("x-amz-bucket-region")) bucket_region = *h;

  auto is = [&](std::initializer_list<std::string_view> codes) {
    return std::find(codes.begin(), codes.end(), body.code) != codes.end();
  };

  // A bucket in another region: S3 answers 301 PermanentRedirect (virtual-hosted requests to
  // the wrong region) or 400 AuthorizationHeaderMalformed (signed for the wrong region).
  if (!bucket_region.empty() && bucket_region != region &&
      (http == 301 || http == 307 ||
       is({"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}))) {
    return Status::InvalidArgument(what + ": bucket '" + std::string(context.bucket) + "' is in region " +
                                   bucket_region + ", not " + region + "; set AWS_REGION=" + bucket_region + " (" +
                                   detail + ")");
  }
  // Signatures are valid for 15 minutes around their x-amz-date; retrying will not fix a clock.
  if (is({"RequestTimeTooSkewed"})) {
    return Status::FailedPrecondition(what + ": " + detail + "; this machine's clock is off, fix it (e.g. with NTP)");
  }
  if (http >= 500 || http == 429 || is({"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"})) {
    return Status::Unavailable(what + ": " + detail);
  }
  if (http == 403 || is({"ExpiredToken", "InvalidToken", "TokenRefreshRequired"})) {
    std::string msg = what + ": access denied (" + detail + "); check ";
    if (s != nullptr && s->anonymous()) {
      msg += "the credentials (the request was unsigned: " + s->credentials_source +
             "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)";
    } else {
      msg += "the credentials (from " + (s ? s->credentials_source : std::string("unknown")) + ")";
      if (is({"ExpiredToken", "TokenRefreshRequired"})) msg += ", which have expired: refresh AWS_SESSION_TOKEN";
    }
    msg += ", the region (" + region + ") and the endpoint (" + std::string(context.endpoint_description) +
           "), and that the bucket policy allows this request";
    return Status::PermissionDenied(std::move(msg));
  }
  if (http == 404 || is({"NoSuchKey", "NoSuchBucket"})) {
    if (body.code == "NoSuchBucket") {
      return Status::NotFound(what + ": bucket '" + std::string(context.bucket) + "' does not exist at " +
                              std::string(context.endpoint_description) + " (" + detail +
                              "); check the bucket name, the region and the endpoint");
    }
    if (body.code == "NoSuchKey") {
      return Status::NotFound(what + ": no such key '" + std::string(context.key) + "' in bucket '" +
                              std::string(context.bucket) + "' (" + detail + ")");
    }
    return Status::NotFound(what + ": not found (" + detail + "): the key '" + std::string(context.key) +
                            "' or the bucket '" + std::string(context.bucket) + "' does not exist");
  }
  if (http >= 300 && http < 400) {
    return Status::FailedPrecondition(what + ": unexpected redirect (" + detail + "); check the endpoint (" +
                                      std::string(context.endpoint_description) + ") and the region (" + region + ")");
  }
  if (http == 409 || http == 412 || http == 416) return Status::FailedPrecondition(what + ": " + detail);
  return Status::InvalidArgument(what + ": " + detail);
}

}  // namespace s3_internal

using s3_internal::Addressing;

std::chrono::milliseconds RetryPolicy::Backoff(int retry, double unit_random) const {
  double d = static_cast<double>(base_delay.count()) * std::ldexp(1.0, std::clamp(retry, 1, 62) - 1);
  d = std::min(d, static_cast<double>(max_delay.count()));
  unit_random = std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(d / 2 + d / 2 * unit_random));
}

// One S3 request, before signing.
struct S3Client::Call {
  std::string method;  // HTTP method
  std::string_view bucket;
  std::string_view key;  // empty for bucket-level requests
  std::vector<sigv4::QueryParam> query;
  std::string_view body;
  std::string payload_hash = std::string(sigv4::kUnsignedPayload);
  std::vector<HttpHeader> extra_headers;  // sent unsigned (Range, If-Match)
  bool listing = false;          // messages say "LIST s3://bucket/prefix"
  std::string_view list_prefix;  // when listing
};

S3Client::S3Client(S3ClientOptions options, std::unique_ptr<const Addressing> addressing)
    : options_(std::move(options)),
      addressing_(std::move(addressing)),
      http_(options_.http),
      rng_(std::random_device{}()) {}

S3Client::~S3Client() = default;

Result<std::unique_ptr<S3Client>> S3Client::Create(S3ClientOptions options) {
  LOADSTAR_ASSIGN_OR_RETURN(Addressing addressing, Addressing::Make(options.aws));
  options.http.body_padding = kBodyPadding;
  if (options.http.ca_bundle.empty()) {
    options.http.ca_bundle = options.aws.ca_bundle;
    options.http.ca_bundle_source = options.aws.ca_bundle_source;
  }
  options.http.ca_bundle_setting = "AWS_CA_BUNDLE";
  if (!options.http.ca_bundle.empty() && !std::ifstream(options.http.ca_bundle)) {
    std::string source = options.http.ca_bundle_source.empty() ? "" : " (from " + options.http.ca_bundle_source + ")";
    return Status::InvalidArgument("the CA bundle " + options.http.ca_bundle + source +
                                   " cannot be read: set AWS_CA_BUNDLE to a PEM file of CA certificates");
  }
  options.list_page_size = std::clamp(options.list_page_size, 1, 1000);
  options.retry.max_attempts = std::max(options.retry.max_attempts, 1);
  return std::unique_ptr<S3Client>(
      new S3Client(std::move(options), std::make_unique<const Addressing>(std::move(addressing))));
}

HttpRequest S3Client::BuildRequest(const Call& call) const {
  s3_internal::Location loc = addressing_->For(call.bucket, call.key);
  HttpRequest req;
  req.method = call.method;
  req.url = addressing_->Url(loc, call.query);
  req.body = call.body;
  req.headers.push_back({"Host", loc.host});
  for (const HttpHeader& h : call.extra_headers) req.headers.push_back(h);
  if (options_.aws.anonymous()) {
    req.headers.push_back({"x-amz-content-sha256", call.payload_hash});  // required by some servers
    return req;
  }
  sigv4::Request to_sign;
  to_sign.method = call.method;
  to_sign.host = loc.host;
  to_sign.path = loc.path;
  to_sign.query = call.query;
  to_sign.payload_hash = call.payload_hash;
  sigv4::Options sign_options;
  sign_options.region = options_.aws.region;
  sign_options.service = "s3";
  sigv4::Signature sig = sigv4::Sign(to_sign, options_.aws.credentials, sign_options, std::chrono::system_clock::now());
  for (sigv4::Header& h : sig.headers) req.headers.push_back({std::move(h.name), std::move(h.value)});
  return req;
}

Status S3Client::Check(const Call& call, const Result<HttpResponse>& result) const {
  s3_internal::ErrorContext context;
  context.method = call.listing ? std::string_view("LIST") : std::string_view(call.method);
  context.bucket = call.bucket;
  context.key = call.listing ? call.list_prefix : call.key;
  context.settings = &options_.aws;
  context.endpoint_description = addressing_->description();
  if (!result.ok()) {
    // Transport failures: the HTTP client's message names the URL; put the S3 name in front.
    return result.status().WithContext(std::string(context.method) + " s3://" + std::string(context.bucket) + "/" +
                                       std::string(context.key));
  }
  if (result->status >= 200 && result->status < 300) return Status::Ok();
  return s3_internal::StatusFromResponse(*result, context);
}

std::chrono::milliseconds S3Client::NextBackoff(int retry) {
  return options_.retry.Backoff(retry, std::uniform_real_distribution<double>(0.0, 1.0)(rng_));
}

Status S3Client::ValidateObjectName(std::string_view method, std::string_view bucket, std::string_view key) {
  if (bucket.empty() || key.empty()) {
    return Status::InvalidArgument(std::string(method) + " s3://" + std::string(bucket) + "/" + std::string(key) +
                                   ": needs both a bucket and a key");
  }
  return Status::Ok();
}

Status S3Client::WithAttempts(const Status& status, int attempts) {
  if (attempts <= 1) return status;
  return Status(status.code(), status.message() + " (after " + std::to_string(attempts) + " attempts)");
}

Result<HttpResponse> S3Client::Execute(const Call& call) {
  for (int attempt = 1;; ++attempt) {
    Result<HttpResponse> result = http_.Send(BuildRequest(call));
    Status status = Check(call, result);
    if (status.ok()) return result;
    if (!IsRetryable(status) || attempt >= options_.retry.max_attempts) return WithAttempts(status, attempt);
    std::chrono::milliseconds wait = NextBackoff(attempt);
    if (log::Enabled(log::Level::kDebug)) {
      log::Debug(status.ToString() + "; retrying in " + std::to_string(wait.count()) + " ms");
    }
    std::this_thread::sleep_for(wait);
  }
}

Result<ListPage> S3Client::ListObjectsPage(std::string_view bucket, std::string_view prefix,
                                           std::string_view continuation_token) {
  Call call;
  call.method = "GET";
  call.listing = true;
  call.list_prefix = prefix;
  call.bucket = bucket;
  call.query.push_back({"list-type", "2"});
  call.query.push_back({"max-keys", std::to_string(options_.list_page_size)});
  if (!prefix.empty()) call.query.push_back({"prefix", std::string(prefix)});
  if (!continuation_token.empty()) call.query.push_back({"continuation-token", std::string(continuation_token)});
  LOADSTAR_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  Result<ListPage> page = s3_internal::ParseListObjectsV2(response.body);
  if (!page.ok()) return page.status().WithContext("LIST s3://" + std::string(bucket) + "/" + std::string(prefix));
  return page;
}

Status S3Client::ListObjects(std::string_view bucket, std::string_view prefix,
                             const std::function<Status(ObjectInfo)>& sink) {
  std::string token;
  for (;;) {
    LOADSTAR_ASSIGN_OR_RETURN(ListPage page, ListObjectsPage(bucket, prefix, token));
    for (ObjectInfo& info : page.objects) LOADSTAR_RETURN_IF_ERROR(sink(std::move(info)));
    if (!page.truncated) return Status::Ok();
    if (page.next_continuation_token == token) {
      return Status::Internal("LIST s3://" + std::string(bucket) + "/" + std::string(prefix) +
                              ": the server returned the same continuation token twice");
    }
    token = std::move(page.next_continuation_token);
  }
}

Result<std::string> S3Client::GetObject(std::string_view bucket, std::string_view key) {
  LOADSTAR_RETURN_IF_ERROR(ValidateObjectName("GET", bucket, key));
  Call call;
  call.method = "GET";
  call.bucket = bucket;
  call.key = key;
  LOADSTAR_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  return std::move(response.body);
}

Result<std::string> S3Client::GetObjectRange(std::string_view bucket, std::string_view key, uint64_t offset,
                                             uint64_t length, std::string_view if_match) {
  LOADSTAR_RETURN_IF_ERROR(ValidateObjectName("GET", bucket, key));
  if (length == 0) {
    std::string empty;
    empty.reserve(options_.http.body_padding);
    return empty;
  }
  Call call;
  call.method = "GET";
  call.bucket = bucket;
  call.key = key;
  call.extra_headers.push_back(
      {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)});
  if (!if_match.empty()) call.extra_headers.push_back({"If-Match", "\"" + std::string(if_match) + "\""});
  LOADSTAR_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status != 206 || response.body.size() != length) {
    return Status::DataLoss("GET s3://" + std::string(bucket) + "/" + std::string(key) + " bytes " +
                            std::to_string(offset) + "+" + std::to_string(length) + ": got HTTP " +
                            std::to_string(response.status) + " with " + std::to_string(response.body.size()) +
                            " bytes");
  }
  return std::move(response.body);
}

void S3Client::GetObjects(std::string_view bucket, const std::vector<std::string>& keys, size_t concurrency,
                          const std::function<void(size_t, Result<std::string>)>& done) {
  // Keys that cannot name an object fail at once; the rest are fetched.
  std::vector<size_t> valid;
  valid.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    Status name = ValidateObjectName("GET", bucket, keys[i]);
    if (name.ok()) {
      valid.push_back(i);
    } else {
      done(i, name);
    }
  }
  std::vector<int> attempts(keys.size(), 0);
  auto call_for = [&](size_t i) {
    Call call;
    call.method = "GET";
    call.bucket = bucket;
    call.key = keys[i];
    return call;
  };
  http_.SendMany(
      valid.size(), concurrency,
      [&](size_t n) {
        ++attempts[valid[n]];
        return BuildRequest(call_for(valid[n]));
      },
      [&](size_t n, Result<HttpResponse> result) -> std::optional<std::chrono::milliseconds> {
        const size_t i = valid[n];
        Status status = Check(call_for(i), result);
        if (status.ok()) {
          done(i, std::move(result->body));
          return std::nullopt;
        }
        if (IsRetryable(status) && attempts[i] < options_.retry.max_attempts) {
          std::chrono::milliseconds wait = NextBackoff(attempts[i]);
          if (log::Enabled(log::Level::kDebug)) {
            log::Debug(status.ToString() + "; retrying in " + std::to_string(wait.count()) + " ms");
          }
          return wait;
        }
        done(i, WithAttempts(status, attempts[i]));
        return std::nullopt;
      });
}

Result<ObjectInfo> S3Client::HeadObject(std::string_view bucket, std::string_view key) {
  LOADSTAR_RETURN_IF_ERROR(ValidateObjectName("HEAD", bucket, key));
  Call call;
  call.method = "HEAD";
  call.bucket = bucket;
  call.key = key;
  LOADSTAR_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  ObjectInfo info;
  info.key = std::string(key);
  const std::string* length = response.FindHeader("content-length");
  if (length == nullptr ||
      std::from_chars(length->data(), length->data() + length->size(), info.size).ec != std::errc()) {
    return Status::Parse("HEAD s3://" + std::string(bucket) + "/" + std::string(key) + ": no usable Content-Length");
  }
  if (const std::string* etag = response.FindHeader("etag")) info.etag = s3_internal::StripQuotes(*etag);
  return info;
}

Status S3Client::PutObject(std::string_view bucket, std::string_view key, std::string_view body) {
  LOADSTAR_RETURN_IF_ERROR(ValidateObjectName("PUT", bucket, key));
  Call call;
  call.method = "PUT";
  call.bucket = bucket;
  call.key = key;
  call.body = body;
  call.payload_hash = sigv4::Sha256Hex(body);
  return Execute(call).status();
}

Status S3Client::DeleteObject(std::string_view bucket, std::string_view key) {
  LOADSTAR_RETURN_IF_ERROR(ValidateObjectName("DELETE", bucket, key));
  Call call;
  call.method = "DELETE";
  call.bucket = bucket;
  call.key = key;
  call.payload_hash = sigv4::Sha256Hex("");
  Status s = Execute(call).status();
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  return s;
}

}  // namespace loadstar

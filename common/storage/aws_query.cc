#include "common/storage/aws_query.h"

#include <algorithm>
#include <random>
#include <thread>

#include "common/storage/http_client.h"
#include "common/storage/s3_internal.h"
#include "common/storage/sigv4.h"

namespace loadstar {

const AwsQueryService& RedshiftService() {
  static const AwsQueryService s{"redshift", "2012-12-01", "AWS_ENDPOINT_URL_REDSHIFT", false};
  return s;
}

const AwsQueryService& IamService() {
  static const AwsQueryService s{"iam", "2010-05-08", "AWS_ENDPOINT_URL_IAM", true};
  return s;
}

std::string FormEncode(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

std::string Env(const EnvLookup& env, std::string_view name) { return env(name).value_or(""); }

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  std::string_view inner;
  while (s3_internal::NextElement(xml, tag, &pos, &inner)) out.push_back(inner);
  return out;
}

std::optional<std::string> XmlText(std::string_view xml, std::string_view tag) {
  size_t pos = 0;
  std::string_view inner;
  if (!s3_internal::NextElement(xml, tag, &pos, &inner)) return std::nullopt;
  return s3_internal::DecodeXmlText(inner);
}

struct AwsQueryClient::Impl {
  AwsQueryService service;
  AwsSettings settings;
  AwsQueryOptions options;
  std::unique_ptr<HttpClient> http;
  std::string host;
  std::mt19937_64 rng{std::random_device{}()};
};

AwsQueryClient::~AwsQueryClient() = default;

Result<std::unique_ptr<AwsQueryClient>> AwsQueryClient::Open(const AwsQueryService& service,
                                                             const AwsSettings& settings, const EnvLookup& env,
                                                             AwsQueryOptions options) {
  std::unique_ptr<AwsQueryClient> c(new AwsQueryClient());
  c->impl_ = std::make_unique<Impl>();
  c->impl_->service = service;
  c->impl_->settings = settings;
  c->impl_->options = options;
  const std::string ignore = Env(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  std::string endpoint = Env(env, service.endpoint_env);
  if (endpoint.empty() && ignore != "true") endpoint = Env(env, "AWS_ENDPOINT_URL");
  if (endpoint.empty()) {
    endpoint = service.global ? "https://" + service.name + ".amazonaws.com"
                              : "https://" + service.name + "." + settings.region + ".amazonaws.com";
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  size_t scheme = endpoint.find("://");
  if (scheme == std::string::npos || (endpoint.compare(0, scheme, "http") != 0 && endpoint.compare(0, scheme, "https") != 0)) {
    return Status::InvalidArgument(service.endpoint_env + " must be an http:// or https:// URL, not '" + endpoint + "'");
  }
  c->impl_->host = endpoint.substr(scheme + 3);
  if (c->impl_->host.find('/') != std::string::npos) c->impl_->host.resize(c->impl_->host.find('/'));
  c->endpoint_ = endpoint;
  c->region_ = service.global ? "us-east-1" : settings.region;
  HttpOptions ho;
  ho.ca_bundle = settings.ca_bundle;
  ho.ca_bundle_source = settings.ca_bundle_source;
  ho.total_timeout = std::chrono::milliseconds(60'000);
  c->impl_->http = std::make_unique<HttpClient>(ho);
  return c;
}

Result<QueryAnswer> AwsQueryClient::Call(std::string_view action, const QueryParams& params) {
  Impl& im = *impl_;
  if (im.settings.anonymous()) {
    return Status::PermissionDenied("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                                    "AWS_PROFILE with ~/.aws/credentials, to call " + im.service.name + " " +
                                    std::string(action));
  }
  std::string body = "Action=" + FormEncode(action) + "&Version=" + FormEncode(im.service.version);
  for (const auto& [k, v] : params) body += "&" + FormEncode(k) + "=" + FormEncode(v);
  const std::string content_type = "application/x-www-form-urlencoded; charset=utf-8";

  Status last = Status::Unavailable("no attempt made");
  for (int attempt = 1; attempt <= im.options.max_attempts; ++attempt) {
    sigv4::Request req;
    req.method = "POST";
    req.host = im.host;
    req.path = "/";
    req.headers = {{"Content-Type", content_type}};
    req.payload_hash = sigv4::Sha256Hex(body);
    sigv4::Options so;
    so.region = region_;
    so.service = im.service.name;
    so.send_content_sha256 = false;
    sigv4::Signature sig = sigv4::Sign(req, im.settings.credentials, so, std::chrono::system_clock::now());
    HttpRequest http;
    http.method = "POST";
    http.url = endpoint_ + "/";
    http.body = body;
    http.headers.push_back({"Host", im.host});
    http.headers.push_back({"Content-Type", content_type});
    for (sigv4::Header& h : sig.headers) http.headers.push_back({h.name, h.value});

    auto response = im.http->Send(http);
    bool retry = false;
    if (!response.ok()) {
      last = response.status().WithContext(im.service.name + " " + std::string(action));
      retry = response.status().code() == StatusCode::kUnavailable || response.status().code() == StatusCode::kDataLoss;
    } else {
      QueryAnswer a;
      a.http_status = response->status;
      a.body = std::move(response->body);
      if (a.http_status >= 200 && a.http_status < 300) return a;
      auto code = XmlText(a.body, "Code");
      if (!code) {
        last = Status::Unavailable(im.service.name + " " + std::string(action) + " answered HTTP " +
                                   std::to_string(a.http_status) + " without an AWS error");
        retry = a.http_status >= 500;
      } else {
        a.error_code = *code;
        a.error_message = XmlText(a.body, "Message").value_or("");
        const bool throttled = a.error_code == "Throttling" || a.error_code == "ThrottlingException" ||
                               a.error_code == "RequestLimitExceeded" || a.error_code == "TooManyRequestsException";
        if (!(throttled || a.http_status >= 500) || attempt == im.options.max_attempts) return a;
        last = Status::Unavailable(a.error_code + ": " + a.error_message);
        retry = true;
      }
    }
    if (!retry || attempt == im.options.max_attempts) break;
    auto cap = std::min(im.options.max_backoff, im.options.base_backoff * (1 << std::min(attempt - 1, 10)));
    std::uniform_int_distribution<int64_t> jitter(cap.count() / 2, cap.count());
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(im.rng)));
  }
  return last;
}

}  // namespace loadstar

#include "common/storage/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>

#include "common/core/text.h"

namespace loadstar {
namespace {

// Never reserve more than this up front, whatever Content-Length claims; larger bodies grow.
constexpr uint64_t kMaxReserve = uint64_t{1} << 30;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}


// One exchange in progress on one reusable easy handle.
class Transfer {
 public:
  Transfer() : easy_(curl_easy_init()) {}
  ~Transfer() {
    Clear();
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* easy() const { return easy_; }
  size_t index() const { return index_; }

  // Configures the handle for `request`. The handle keeps its connections and DNS cache.
  Status Prepare(size_t index, HttpRequest request, const HttpOptions& options) {
    Clear();
    if (easy_ == nullptr) return Status::Internal("curl_easy_init failed");
    index_ = index;
    options_ = &options;
    request_ = std::move(request);
    padding_ = options.body_padding;
    head_ = request_.method == "HEAD";
    curl_easy_reset(easy_);
    error_[0] = '\0';

    bool ok = true;
    auto set = [&](CURLoption opt, auto value) { ok = ok && curl_easy_setopt(easy_, opt, value) == CURLE_OK; };
    set(CURLOPT_URL, request_.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_PATH_AS_IS, 1L);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_PRIVATE, static_cast<void*>(this));
    set(CURLOPT_ERRORBUFFER, error_);
    set(CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    set(CURLOPT_HEADERDATA, static_cast<void*>(this));
    set(CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
    set(CURLOPT_WRITEDATA, static_cast<void*>(this));
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    set(CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit);
    set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_time.count()));
    if (options.total_timeout.count() > 0) set(CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_bundle.empty()) {
      // Only the bundle's CAs, as with the AWS CLI: not the system's directory of CAs as well.
      set(CURLOPT_CAINFO, options.ca_bundle.c_str());
      set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    }

    if (head_) {
      set(CURLOPT_NOBODY, 1L);
    } else if (request_.method == "PUT") {
      set(CURLOPT_UPLOAD, 1L);
      set(CURLOPT_READFUNCTION, &Transfer::OnUpload);
      set(CURLOPT_READDATA, static_cast<void*>(this));
      set(CURLOPT_SEEKFUNCTION, &Transfer::OnSeek);
      set(CURLOPT_SEEKDATA, static_cast<void*>(this));
      set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
    } else if (request_.method == "POST") {
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDS, request_.body.data());
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
    } else if (request_.method != "GET") {
      set(CURLOPT_CUSTOMREQUEST, request_.method.c_str());
    }

    for (const HttpHeader& h : request_.headers) {
      // "Name;" is curl's spelling of a header with an empty value ("Name:" would remove it).
      std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
      headers_ = curl_slist_append(headers_, line.c_str());
    }
    headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip before PUT bodies
    set(CURLOPT_HTTPHEADER, headers_);
    if (!ok || headers_ == nullptr) return Status::Internal("cannot configure a transfer for " + Describe());
    return Status::Ok();
  }

  // Turns the finished transfer into a response, or into the Status that says why there is none.
  Result<HttpResponse> Finish(CURLcode code, HttpStats* stats) {
    long connects = 0;
    if (curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) stats->connections_opened += connects;
    ++stats->requests;
    if (code != CURLE_OK) return TransportError(code);
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &response_.status);
    if (!head_ && content_length_ && response_.body.size() != *content_length_) {
      return Status::DataLoss(Describe() + ": body truncated: got " + std::to_string(response_.body.size()) + " of " +
                              std::to_string(*content_length_) + " bytes");
    }
    if (response_.body.capacity() < response_.body.size() + padding_) {
      response_.body.reserve(response_.body.size() + padding_);
    }
    stats->bytes_received += response_.body.size();
    HttpResponse out = std::move(response_);
    Clear();
    return out;
  }

  void Clear() {
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    headers_ = nullptr;
    response_ = HttpResponse();
    content_length_.reset();
    upload_pos_ = 0;
  }

 private:
  std::string Describe() const { return request_.method + " " + request_.url; }

  // The host of the request's URL, for messages.
  std::string Host() const {
    std::string host;
    CURLU* url = curl_url();
    char* part = nullptr;
    if (url != nullptr && curl_url_set(url, CURLUPART_URL, request_.url.c_str(), 0) == CURLUE_OK &&
        curl_url_get(url, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
      host = part;
    }
    curl_free(part);
    curl_url_cleanup(url);
    return host.empty() ? request_.url : host;
  }

  std::string CurlDetail(CURLcode code) const {
    return error_[0] != '\0' ? std::string(TrimWhitespace(error_)) : std::string(curl_easy_strerror(code));
  }

  // What the message of a certificate error says about the CAs trusted.
  std::string TrustedCas() const {
    if (options_->ca_bundle.empty()) return "trusting the system's CAs";
    std::string out = "trusting only the CAs in " + options_->ca_bundle;
    if (!options_->ca_bundle_source.empty()) out += " (from " + options_->ca_bundle_source + ")";
    return out;
  }

  Status TransportError(CURLcode code) const {
    std::string msg = Describe() + ": " + curl_easy_strerror(code);
    if (error_[0] != '\0') msg += " (" + std::string(TrimWhitespace(error_)) + ")";
    const std::string& setting = options_->ca_bundle_setting;
    switch (code) {
      case CURLE_PARTIAL_FILE:
        return Status::DataLoss(msg);
      // The server is reachable but not the one it should be, as far as anyone can tell: trying
      // again would only fail again (and retrying quietly would hide it).
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_INVALIDCERTSTATUS:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH: {
        std::string out = Describe() + ": TLS certificate of " + Host() + " could not be verified (" +
                          CurlDetail(code) + "; " + TrustedCas() + ")";
        if (!setting.empty()) out += ": if the endpoint uses a private CA, set " + setting + " to its certificate file";
        return Status::FailedPrecondition(std::move(out));
      }
      case CURLE_SSL_CACERT_BADFILE: {
        std::string out = Describe() + ": the CA bundle " + options_->ca_bundle;
        if (!options_->ca_bundle_source.empty()) out += " (from " + options_->ca_bundle_source + ")";
        out += " could not be used (" + CurlDetail(code) + ")";
        if (!setting.empty()) out += ": set " + setting + " to a readable PEM file of CA certificates";
        return Status::FailedPrecondition(std::move(out));
      }
      case CURLE_SSL_CERTPROBLEM:
        return Status::FailedPrecondition(msg);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return Status::InvalidArgument(msg);
      case CURLE_OUT_OF_MEMORY:
      case CURLE_BAD_FUNCTION_ARGUMENT:
      case CURLE_ABORTED_BY_CALLBACK:
      case CURLE_WRITE_ERROR:
      case CURLE_READ_ERROR:
        return Status::Internal(msg);
      default:  // resolve/connect failures, resets, timeouts, stalls, TLS handshakes that broke off
        return Status::Unavailable(msg);
    }
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {  // a new response starts (e.g. after "100 Continue")
      self->response_.headers.clear();
      self->content_length_.reset();
      return line.size();
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return line.size();
    std::string name = AsciiLower(TrimWhitespace(line.substr(0, colon)));
    std::string_view value = TrimWhitespace(line.substr(colon + 1));
    if (name == "content-length") {
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && end == value.data() + value.size()) {
        self->content_length_ = n;
        if (!self->head_) self->response_.body.reserve(std::min(n, kMaxReserve) + self->padding_);
      }
    }
    self->response_.headers.push_back({std::move(name), std::string(value)});
    return line.size();
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    self->response_.body.append(data, size * count);
    return size * count;
  }

  static size_t OnUpload(char* buffer, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    size_t n = std::min(size * count, self->request_.body.size() - self->upload_pos_);
    std::memcpy(buffer, self->request_.body.data() + self->upload_pos_, n);
    self->upload_pos_ += n;
    return n;
  }

  // curl rewinds the body when it must send the request again on a fresh connection.
  static int OnSeek(void* self_ptr, curl_off_t offset, int origin) {
    auto* self = static_cast<Transfer*>(self_ptr);
    if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > self->request_.body.size()) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    self->upload_pos_ = static_cast<size_t>(offset);
    return CURL_SEEKFUNC_OK;
  }

  CURL* const easy_;
  size_t index_ = 0;
  HttpRequest request_;
  curl_slist* headers_ = nullptr;
  HttpResponse response_;
  std::optional<uint64_t> content_length_;
  size_t padding_ = 0;
  size_t upload_pos_ = 0;
  bool head_ = false;
  const HttpOptions* options_ = nullptr;  // the client's, which outlives every transfer
  char error_[CURL_ERROR_SIZE] = {};
};

}  // namespace

const std::string* HttpResponse::FindHeader(std::string_view lower_case_name) const {
  for (const HttpHeader& h : headers) {
    if (h.name == lower_case_name) return &h.value;
  }
  return nullptr;
}

struct HttpClient::Impl {
  explicit Impl(HttpOptions o) : options(std::move(o)) {
    GlobalInit();
    multi = curl_multi_init();
  }
  ~Impl() {
    idle.clear();  // easy handles are not attached to the multi handle when idle
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  std::unique_ptr<Transfer> Acquire() {
    if (idle.empty()) return std::make_unique<Transfer>();
    std::unique_ptr<Transfer> t = std::move(idle.back());
    idle.pop_back();
    return t;
  }

  const HttpOptions options;
  CURLM* multi = nullptr;  // owns the connection cache that every transfer draws from
  long max_connects = 0;   // the connection cache's size, raised to the largest concurrency used
  std::vector<std::unique_ptr<Transfer>> idle;
  HttpStats stats;
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpClient::~HttpClient() = default;

const HttpStats& HttpClient::stats() const { return impl_->stats; }

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  std::optional<Result<HttpResponse>> out;
  SendMany(
      1, 1, [&](size_t) { return request; },
      [&](size_t, Result<HttpResponse> r) -> std::optional<std::chrono::milliseconds> {
        out.emplace(std::move(r));
        return std::nullopt;
      });
  return std::move(*out);
}

void HttpClient::SendMany(size_t count, size_t concurrency, const BuildFn& build, const DoneFn& done) {
  using Clock = std::chrono::steady_clock;
  if (count == 0) return;
  Impl& impl = *impl_;
  concurrency = std::clamp<size_t>(concurrency, 1, count);
  if (impl.multi == nullptr) {  // nothing can be sent, now or later: no retries
    for (size_t i = 0; i < count; ++i) (void)done(i, Status::Internal("curl_multi_init failed"));
    return;
  }
  // By default the cache holds 4 connections per attached handle, and shrinks as the last
  // transfers of a batch detach; keep one per concurrent transfer for the next batch.
  if (static_cast<long>(concurrency) > impl.max_connects) {
    impl.max_connects = static_cast<long>(std::max<size_t>(concurrency, 8));
    curl_multi_setopt(impl.multi, CURLMOPT_MAXCONNECTS, impl.max_connects);
  }

  std::deque<size_t> ready;
  for (size_t i = 0; i < count; ++i) ready.push_back(i);
  using Delayed = std::pair<Clock::time_point, size_t>;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed;
  std::vector<std::unique_ptr<Transfer>> running;
  size_t finished = 0;

  auto complete = [&](size_t index, Result<HttpResponse> result) {
    std::optional<std::chrono::milliseconds> again = done(index, std::move(result));
    if (again) {
      delayed.emplace(Clock::now() + *again, index);
    } else {
      ++finished;
    }
  };

  while (finished < count) {
    for (auto now = Clock::now(); !delayed.empty() && delayed.top().first <= now; delayed.pop()) {
      ready.push_back(delayed.top().second);
    }
    while (running.size() < concurrency && !ready.empty()) {
      size_t index = ready.front();
      ready.pop_front();
      std::unique_ptr<Transfer> t = impl.Acquire();
      Status prepared = t->Prepare(index, build(index), impl.options);
      if (prepared.ok() && curl_multi_add_handle(impl.multi, t->easy()) != CURLM_OK) {
        prepared = Status::Internal("curl_multi_add_handle failed");
      }
      if (!prepared.ok()) {
        t->Clear();
        impl.idle.push_back(std::move(t));
        complete(index, prepared);
        continue;
      }
      running.push_back(std::move(t));
    }
    if (running.empty()) {
      if (delayed.empty()) continue;  // everything finished, or ready work to start
      std::this_thread::sleep_until(delayed.top().first);
      continue;
    }

    int still_running = 0;
    curl_multi_perform(impl.multi, &still_running);
    bool any_done = false;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(impl.multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;
      curl_multi_remove_handle(impl.multi, easy);
      auto it = std::find_if(running.begin(), running.end(), [&](const auto& t) { return t->easy() == easy; });
      if (it == running.end()) continue;
      std::unique_ptr<Transfer> t = std::move(*it);
      running.erase(it);
      Result<HttpResponse> result = t->Finish(code, &impl.stats);
      size_t index = t->index();
      t->Clear();
      impl.idle.push_back(std::move(t));
      complete(index, std::move(result));
      any_done = true;
    }
    if (any_done) continue;  // start the next transfers before waiting again

    int timeout_ms = 1000;
    if (!delayed.empty()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(delayed.top().first - Clock::now());
      timeout_ms = static_cast<int>(std::clamp<int64_t>(until.count(), 0, timeout_ms));
    }
    curl_multi_poll(impl.multi, nullptr, 0, timeout_ms, nullptr);
  }
}

}  // namespace loadstar

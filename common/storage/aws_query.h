// AWS Query APIs (form-encoded POST, Action=...&Version=..., SigV4-signed, XML answers): what
// loadstar needs of Amazon Redshift's control plane (2012-12-01) and IAM (2010-05-08). There is
// no AWS SDK for C++ in Debian; this is the small part of one that `loadstar cluster` uses.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/status.h"
#include "common/storage/aws_config.h"

namespace loadstar {

struct AwsQueryService {
  std::string name;          // signing name and endpoint prefix: "redshift", "iam"
  std::string version;       // the API version: "2012-12-01", "2010-05-08"
  std::string endpoint_env;  // the SDKs' service-specific override: "AWS_ENDPOINT_URL_REDSHIFT"
  bool global = false;       // one endpoint for every region, signed for us-east-1 (IAM)
};

const AwsQueryService& RedshiftService();
const AwsQueryService& IamService();

// One request's parameters, already in the Query protocol's flattened names
// ("IamRoles.IamRoleArn.1"), in the order given.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// What AWS answered: the XML body, or its error.
struct QueryAnswer {
  long http_status = 0;
  std::string body;
  std::string error_code;     // e.g. "ClusterNotFound", "EntityAlreadyExists"; "" when it succeeded
  std::string error_message;
  bool ok() const { return error_code.empty(); }
};

struct AwsQueryOptions {
  int max_attempts = 6;  // throttling and 5xx are retried with jittered backoff
  std::chrono::milliseconds base_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
};

class AwsQueryClient {
 public:
  // The endpoint: $<endpoint_env>, else $AWS_ENDPOINT_URL (unless
  // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else AWS's own (https://redshift.REGION.amazonaws.com,
  // https://iam.amazonaws.com). Credentials and region as for S3 (LoadAwsSettings).
  static Result<std::unique_ptr<AwsQueryClient>> Open(const AwsQueryService& service, const AwsSettings& settings,
                                                      const EnvLookup& env, AwsQueryOptions options = {});
  ~AwsQueryClient();

  // Calls `action`. Transport failures (after the retries) and answers that are not AWS's are an
  // error Status; an AWS error is a QueryAnswer with error_code set, for the caller to judge.
  Result<QueryAnswer> Call(std::string_view action, const QueryParams& params);

  const std::string& endpoint() const { return endpoint_; }
  const std::string& region() const { return region_; }

 private:
  AwsQueryClient() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string endpoint_, region_;
};

// The text of the first element called `tag` in `xml` (entities decoded), if there is one.
// Enough for AWS's answers, whose element names are unique where loadstar reads them.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag);
// The inner XML of every element called `tag`, in order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);

// application/x-www-form-urlencoded, the way AWS's SDKs encode a value (RFC 3986 unreserved
// characters kept, everything else %XX).
std::string FormEncode(std::string_view value);

}  // namespace loadstar

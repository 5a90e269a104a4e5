// Where loadstar finds its S3 settings: the same environment variables and files as the AWS CLI
// and SDKs, so a machine set up for `aws s3 ls` needs nothing more.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/storage/sigv4.h"
#include "common/core/status.h"

namespace loadstar {

struct AwsSettings {
  sigv4::Credentials credentials;  // empty: requests go out unsigned (anonymous)
  std::string region = "us-east-1";
  // Empty: AWS itself, virtual-hosted style (https://bucket.s3.REGION.amazonaws.com).
  // Otherwise an S3-compatible server addressed path-style: "http://127.0.0.1:9000".
  std::string endpoint_url;
  // PEM file of the CAs trusted for https:// endpoints (instead of the system's); empty: the
  // system's. ca_bundle_source says where it was set: "AWS_CA_BUNDLE" or
  // "/home/me/.aws/config [default] ca_bundle".
  std::string ca_bundle;
  std::string ca_bundle_source;
  // Where the credentials came from, for error messages (never the credentials themselves):
  // "environment", "/home/me/.aws/credentials [default]", "none (anonymous)".
  std::string credentials_source = "none (anonymous)";

  bool anonymous() const { return credentials.empty(); }
};

// Returns the value of an environment variable, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Loads settings the way the AWS CLI does, reading variables only through `env`:
//  - credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else the
//    profile AWS_PROFILE (default "default") in the shared credentials file
//    (AWS_SHARED_CREDENTIALS_FILE, default $HOME/.aws/credentials), then in the config file
//    (AWS_CONFIG_FILE, default $HOME/.aws/config); else none, and requests are anonymous.
//    LOADSTAR_S3_ANONYMOUS=1 (or "true") forces anonymous requests.
//  - region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else "us-east-1".
//  - endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's `endpoint_url` (its `s3`
//    sub-section first), unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.
//  - CA bundle: AWS_CA_BUNDLE, else the profile's `ca_bundle` ("~/" expanded), else none.
// A missing file is not an error. Returns InvalidArgument, naming the variable or file to fix,
// when only one of the key id and the secret is given, when an explicitly chosen AWS_PROFILE is
// in neither file, or when the profile only offers credential kinds loadstar does not implement
// (role_arn, credential_process, SSO, web identity).
Result<AwsSettings> LoadAwsSettings(const EnvLookup& env);

// LoadAwsSettings() over this process's environment (getenv).
Result<AwsSettings> LoadAwsSettingsFromEnvironment();

}  // namespace loadstar

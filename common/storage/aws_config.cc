#include "common/storage/aws_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

#include "common/core/text.h"

namespace loadstar {
namespace {

// One INI file: section name -> key -> value. Keys of an indented sub-section (the config
// file's "s3 =" block) are stored as "s3.endpoint_url".
using IniSections = std::map<std::string, std::map<std::string, std::string>>;

IniSections ParseIni(std::istream& in) {
  IniSections sections;
  std::map<std::string, std::string>* current = nullptr;
  std::string parent;  // the key that opened an indented sub-section, e.g. "s3"
  std::string line;
  while (std::getline(in, line)) {
    std::string_view raw = line;
    bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string_view text = TrimWhitespace(raw);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      current = &sections[std::string(TrimWhitespace(text.substr(1, text.size() - 2)))];
      parent.clear();
      continue;
    }
    if (current == nullptr) continue;
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = AsciiLower(TrimWhitespace(text.substr(0, eq)));
    std::string value(TrimWhitespace(text.substr(eq + 1)));
    if (indented && !parent.empty()) {
      (*current)[parent + "." + key] = std::move(value);
      continue;
    }
    parent = value.empty() ? key : std::string();
    (*current)[key] = std::move(value);
  }
  return sections;
}

struct LoadedFile {
  std::string path;
  IniSections sections;
};

// Reads `path` if it exists; a missing file yields no sections.
Result<LoadedFile> LoadIni(std::string path) {
  LoadedFile out{std::move(path), {}};
  if (out.path.empty()) return out;
  std::error_code ec;
  if (!std::filesystem::exists(out.path, ec)) return out;
  std::ifstream in(out.path);
  if (!in) return Status::InvalidArgument("cannot read AWS settings file " + out.path);
  out.sections = ParseIni(in);
  return out;
}

std::string ExpandHome(std::string path, const std::optional<std::string>& home) {
  if (home && (path == "~" || path.rfind("~/", 0) == 0)) path = *home + path.substr(1);
  return path;
}

const std::string* Find(const std::map<std::string, std::string>* section, const std::string& key) {
  if (section == nullptr) return nullptr;
  auto it = section->find(key);
  return it == section->end() || it->second.empty() ? nullptr : &it->second;
}

bool Truthy(const std::optional<std::string>& v) {
  if (!v) return false;
  std::string s = AsciiLower(TrimWhitespace(*v));
  return s == "1" || s == "true" || s == "yes";
}

// The credential kinds of the AWS CLI that loadstar does not implement, named so the message
// can say what was found.
std::string UnsupportedCredentialKind(const std::map<std::string, std::string>* section) {
  for (const char* key :
       {"role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"}) {
    if (Find(section, key) != nullptr) return key;
  }
  return "";
}

}  // namespace

Result<AwsSettings> LoadAwsSettings(const EnvLookup& env) {
  auto get = [&](std::string_view name) -> std::optional<std::string> {
    std::optional<std::string> v = env(name);
    if (v && v->empty()) return std::nullopt;  // set but empty counts as unset, as in the CLI
    return v;
  };
  AwsSettings settings;
  const std::optional<std::string> home = get("HOME");

  const std::optional<std::string> profile_env = get("AWS_PROFILE");
  const std::string profile = profile_env.value_or("default");

  std::string credentials_path = get("AWS_SHARED_CREDENTIALS_FILE").value_or(home ? *home + "/.aws/credentials" : "");
  std::string config_path = get("AWS_CONFIG_FILE").value_or(home ? *home + "/.aws/config" : "");
  LOADSTAR_ASSIGN_OR_RETURN(LoadedFile credentials_file, LoadIni(ExpandHome(credentials_path, home)));
  LOADSTAR_ASSIGN_OR_RETURN(LoadedFile config_file, LoadIni(ExpandHome(config_path, home)));

  // The credentials file names sections after the profile; the config file says "profile NAME",
  // except for the default profile, which may be written either way.
  const std::map<std::string, std::string>* cred_section = nullptr;
  if (auto it = credentials_file.sections.find(profile); it != credentials_file.sections.end()) {
    cred_section = &it->second;
  }
  const std::map<std::string, std::string>* config_section = nullptr;
  if (auto it = config_file.sections.find("profile " + profile); it != config_file.sections.end()) {
    config_section = &it->second;
  } else if (profile == "default") {
    if (auto d = config_file.sections.find("default"); d != config_file.sections.end()) config_section = &d->second;
  }
  if (profile_env && cred_section == nullptr && config_section == nullptr) {
    return Status::InvalidArgument("AWS_PROFILE=" + profile + " names a profile found in neither " +
                                   (credentials_file.path.empty() ? "(no credentials file)" : credentials_file.path) +
                                   " nor " + (config_file.path.empty() ? "(no config file)" : config_file.path));
  }

  // Region and endpoint.
  if (auto r = get("AWS_REGION")) {
    settings.region = *r;
  } else if (auto d = get("AWS_DEFAULT_REGION")) {
    settings.region = *d;
  } else if (const std::string* c = Find(config_section, "region")) {
    settings.region = *c;
  }
  if (auto e = get("AWS_ENDPOINT_URL_S3")) {
    settings.endpoint_url = *e;
  } else if (auto g = get("AWS_ENDPOINT_URL")) {
    settings.endpoint_url = *g;
  } else if (!Truthy(get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))) {
    if (const std::string* s3 = Find(config_section, "s3.endpoint_url")) {
      settings.endpoint_url = *s3;
    } else if (const std::string* any = Find(config_section, "endpoint_url")) {
      settings.endpoint_url = *any;
    }
  }
  if (auto ca = get("AWS_CA_BUNDLE")) {
    settings.ca_bundle = ExpandHome(*ca, home);
    settings.ca_bundle_source = "AWS_CA_BUNDLE";
  } else if (const std::string* c = Find(config_section, "ca_bundle")) {
    settings.ca_bundle = ExpandHome(*c, home);
    settings.ca_bundle_source = config_file.path + " [" + profile + "] ca_bundle";
  }

  // Credentials.
  if (Truthy(get("LOADSTAR_S3_ANONYMOUS"))) {
    settings.credentials_source = "none (LOADSTAR_S3_ANONYMOUS is set)";
    return settings;
  }
  std::optional<std::string> key_id = get("AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = get("AWS_SECRET_ACCESS_KEY");
  if (key_id.has_value() != secret.has_value()) {
    return Status::InvalidArgument(std::string(key_id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                                                      : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") +
                                   "; set both, or neither to use a profile");
  }
  if (key_id) {
    settings.credentials = {*key_id, *secret, get("AWS_SESSION_TOKEN").value_or("")};
    settings.credentials_source = "environment";
    return settings;
  }
  struct Candidate {
    const std::map<std::string, std::string>* section;
    const std::string* path;
  };
  for (Candidate c : {Candidate{cred_section, &credentials_file.path}, Candidate{config_section, &config_file.path}}) {
    const std::string* id = Find(c.section, "aws_access_key_id");
    const std::string* sk = Find(c.section, "aws_secret_access_key");
    if (id == nullptr && sk == nullptr) continue;
    if (id == nullptr || sk == nullptr) {
      return Status::InvalidArgument(
          "profile [" + profile + "] in " + *c.path + " has " +
          (id ? "aws_access_key_id but no aws_secret_access_key" : "aws_secret_access_key but no aws_access_key_id"));
    }
    const std::string* token = Find(c.section, "aws_session_token");
    settings.credentials = {*id, *sk, token ? *token : ""};
    settings.credentials_source = *c.path + " [" + profile + "]";
    return settings;
  }
  for (Candidate c : {Candidate{cred_section, &credentials_file.path}, Candidate{config_section, &config_file.path}}) {
    std::string kind = UnsupportedCredentialKind(c.section);
    if (!kind.empty()) {
      return Status::InvalidArgument("profile [" + profile + "] in " + *c.path + " gets its credentials through " +
                                     kind +
                                     ", which loadstar does not support; export AWS_ACCESS_KEY_ID, "
                                     "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN instead (for example with "
                                     "`aws configure export-credentials --format env`)");
    }
  }
  return settings;  // anonymous
}

Result<AwsSettings> LoadAwsSettingsFromEnvironment() {
  return LoadAwsSettings([](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  });
}

}  // namespace loadstar

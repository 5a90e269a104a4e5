#include "common/transport/curve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "common/core/log.h"

namespace loadstar::transport {
namespace {

// Key files are a few lines; anything much larger is not one.
constexpr size_t kMaxKeyFileBytes = 1 << 20;

Result<std::string> ReadSmallFile(const std::string& path, const char* what) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::InvalidArgument(std::string("cannot read ") + what + " " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::InvalidArgument(std::string("cannot read ") + what + " " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxKeyFileBytes) {
      close(fd);
      return Status::InvalidArgument(std::string(what) + " " + path + " is too large to be a key file");
    }
  }
  close(fd);
  return text;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The first word of every line that is neither blank nor a comment, with its line number.
std::vector<std::pair<int, std::string>> KeyLines(const std::string& text) {
  std::vector<std::pair<int, std::string>> out;
  size_t pos = 0;
  int line_no = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    std::string_view line = Trim(std::string_view(text).substr(pos, end - pos));
    // '#' is a Z85 character, but never the first of a key: Z85's first character of each 4 bytes
    // stands for value / 85^4 < 83, and '#' is the 85th.
    if (!line.empty() && line.front() != '#') {
      out.emplace_back(line_no, std::string(line.substr(0, line.find_first_of(" \t"))));
    }
    pos = end + 1;
  }
  return out;
}

Status WriteNew(const std::string& path, const std::string& text, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::FailedPrecondition(path + " already exists; a key is never overwritten (remove it first, "
                                                "or pick another name)");
    }
    return Status::InvalidArgument("cannot create " + path + ": " + std::strerror(errno));
  }
  // The umask may only take bits away; make the mode exactly what was asked.
  Status s = fchmod(fd, mode) == 0 ? Status::Ok() : Status::Internal("cannot set the mode of " + path);
  size_t done = 0;
  while (s.ok() && done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::Internal("cannot write " + path + ": " + std::strerror(errno));
    else done += static_cast<size_t>(n);
  }
  if (s.ok() && fsync(fd) != 0) s = Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  close(fd);
  if (!s.ok()) unlink(path.c_str());
  return s;
}

}  // namespace

Status CheckZ85Key(std::string_view key) {
  if (key.size() != kZ85KeyChars) {
    return Status::InvalidArgument("not a CURVE key: expected 40 characters of Z85 text, got " +
                                   std::to_string(key.size()));
  }
  std::string copy(key);
  uint8_t binary[32];
  if (zmq_z85_decode(binary, copy.c_str()) == nullptr) {
    return Status::InvalidArgument("not a CURVE key: it holds characters that are not Z85");
  }
  return Status::Ok();
}

Result<KeyPair> GenerateKeyPair() {
  char pub[kZ85KeyChars + 1], sec[kZ85KeyChars + 1];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status::Internal(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
                            " (is ZeroMQ built with CURVE?)");
  }
  KeyPair keys{std::string(pub, kZ85KeyChars), std::string(sec, kZ85KeyChars)};
  explicit_bzero(sec, sizeof sec);
  return keys;
}

Result<std::string> PublicKeyOf(const std::string& secret_key) {
  LOADSTAR_RETURN_IF_ERROR(CheckZ85Key(secret_key));
  char pub[kZ85KeyChars + 1];
  if (zmq_curve_public(pub, secret_key.c_str()) != 0) {
    return Status::InvalidArgument(std::string("cannot derive the public key: ") + zmq_strerror(zmq_errno()));
  }
  return std::string(pub, kZ85KeyChars);
}

std::string Fingerprint(std::string_view public_key) { return std::string(public_key.substr(0, 12)); }

Result<std::string> ReadSecretKeyFile(const std::string& path) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "secret key file"));
  auto lines = KeyLines(text);
  explicit_bzero(text.data(), text.size());
  if (lines.size() != 1) {
    return Status::InvalidArgument("secret key file " + path + " should hold exactly one key, on a line of its own (" +
                                   std::to_string(lines.size()) + " found)");
  }
  std::string key = std::move(lines.front().second);
  if (Status s = CheckZ85Key(key); !s.ok()) {
    explicit_bzero(key.data(), key.size());
    return s.WithContext("secret key file " + path);
  }
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    static std::mutex mu;
    static std::set<std::string> warned;
    std::lock_guard<std::mutex> lock(mu);
    if (warned.insert(path).second) {
      log::Warn("secret key file " + path + " can be read by other users; chmod 600 it");
    }
  }
  return key;
}

Result<std::vector<std::string>> ReadAuthorizedKeys(const std::string& path) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "authorized keys file"));
  std::vector<std::string> keys;
  for (auto& [line_no, key] : KeyLines(text)) {
    if (Status s = CheckZ85Key(key); !s.ok()) {
      return s.WithContext(path + " line " + std::to_string(line_no) + " (one Z85 public key per line; '#' comments)");
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) {
    return Status::InvalidArgument("authorized keys file " + path +
                                   " lists no keys: add each worker's NAME.pub, one per line");
  }
  return keys;
}

Result<std::string> ReadPublicKey(const std::string& text_or_path) {
  if (CheckZ85Key(text_or_path).ok()) return text_or_path;
  LOADSTAR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(text_or_path, "public key file"));
  auto lines = KeyLines(text);
  if (lines.size() != 1) {
    return Status::InvalidArgument("public key file " + text_or_path + " should hold exactly one key (" +
                                   std::to_string(lines.size()) + " found)");
  }
  LOADSTAR_RETURN_IF_ERROR(CheckZ85Key(lines.front().second).WithContext("public key file " + text_or_path));
  return lines.front().second;
}

Status WriteKeyPair(const std::string& prefix, const KeyPair& keys) {
  const std::string secret_path = prefix + ".key", public_path = prefix + ".pub";
  struct stat st {};
  if (stat(public_path.c_str(), &st) == 0) {
    return Status::FailedPrecondition(public_path + " already exists; a key is never overwritten (remove it first, "
                                                    "or pick another name)");
  }
  std::string secret_text = "# loadstar CURVE secret key: keep it on this host, readable only by its owner\n" +
                            keys.secret_key + "\n";
  Status s = WriteNew(secret_path, secret_text, 0600);
  explicit_bzero(secret_text.data(), secret_text.size());
  LOADSTAR_RETURN_IF_ERROR(s);
  s = WriteNew(public_path, keys.public_key + "\n", 0644);
  if (!s.ok()) unlink(secret_path.c_str());
  return s;
}

}  // namespace loadstar::transport

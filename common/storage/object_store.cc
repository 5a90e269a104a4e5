// The two ObjectStore implementations: an S3 bucket (through S3Client) and the local filesystem.
#include "common/storage/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/storage/aws_config.h"
#include "common/storage/s3_client.h"

namespace loadstar {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- S3

class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(std::string bucket, std::unique_ptr<S3Client> client)
      : bucket_(std::move(bucket)), client_(std::move(client)) {}

  Status List(std::string_view prefix, const std::function<Status(ObjectInfo)>& sink) override {
    return client_->ListObjects(bucket_, prefix, sink);
  }
  Result<std::string> Get(std::string_view key) override { return client_->GetObject(bucket_, key); }
  void GetMany(const std::vector<std::string>& keys, size_t concurrency,
               const std::function<void(size_t, Result<std::string>)>& done) override {
    client_->GetObjects(bucket_, keys, concurrency, done);
  }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length,
                               std::string_view etag) override {
    return client_->GetObjectRange(bucket_, key, offset, length, etag);
  }
  Result<ObjectInfo> Head(std::string_view key) override { return client_->HeadObject(bucket_, key); }
  Status Put(std::string_view key, std::string_view body) override { return client_->PutObject(bucket_, key, body); }
  Status Delete(std::string_view key) override { return client_->DeleteObject(bucket_, key); }
  std::string UriFor(std::string_view key) const override { return "s3://" + bucket_ + "/" + std::string(key); }

 private:
  const std::string bucket_;
  const std::unique_ptr<S3Client> client_;
};

// ---------------------------------------------------------------- local filesystem

std::string ErrnoText(int err) { return std::strerror(err); }

Status FileError(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + ErrnoText(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(std::move(msg));
    case EINTR:
    case EAGAIN:
    case EIO:
      return Status::Unavailable(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

std::string EtagOf(const struct stat& st) {
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return std::to_string(mtime_ns) + "-" + std::to_string(static_cast<uint64_t>(st.st_size));
}

Status RequireAbsolute(std::string_view path) {
  if (path.empty() || path[0] != '/') {
    return Status::InvalidArgument("'" + std::string(path) +
                                   "' is not an absolute path; file stores name objects by absolute path");
  }
  return Status::Ok();
}

// Reads the whole regular file behind `fd` into a string with kBodyPadding spare capacity,
// sized by fstat and read in place. A file that grows while it is read is read again.
Result<std::string> ReadWholeFile(int fd, const std::string& path) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return FileError("reading", path, errno);
    if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("reading " + path + ": not a regular file");
    const size_t size = static_cast<size_t>(st.st_size);
    std::string out;
    out.reserve(size + kBodyPadding);
    out.resize(size);
    size_t filled = 0;
    while (filled < size) {
      ssize_t n = ::pread(fd, out.data() + filled, size - filled, static_cast<off_t>(filled));
      if (n == 0) break;  // the file shrank
      if (n < 0) {
        if (errno == EINTR) continue;
        return FileError("reading", path, errno);
      }
      filled += static_cast<size_t>(n);
    }
    out.resize(filled);
    char probe;
    ssize_t more = ::pread(fd, &probe, 1, static_cast<off_t>(filled));
    if (more == 0) return out;
    if (more < 0 && errno != EINTR) return FileError("reading", path, errno);
  }
  return Status::Unavailable("reading " + path + ": the file kept changing while it was read");
}

// Keys are absolute paths. Not thread-safe in the sense of ObjectStore, though every call is
// independent of the others.
class FileObjectStore final : public ObjectStore {
 private:
  // Hands every regular file under `dir` whose path starts with `match` to `sink`, in path order,
  // one directory at a time: memory holds one directory's names, not the whole listing (a
  // million files listed must not cost hundreds of MB before the first is planned).
  static Status Walk(const std::string& dir, const std::string& match,
                     const std::function<Status(ObjectInfo)>& sink) {
    struct Entry {
      std::string sort_key;  // name, with '/' after directories: sorts as the full paths do
      std::string path;
      bool is_dir;
    };
    std::vector<Entry> entries;
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) return FileError("reading directory", dir, ec.value());
    for (fs::directory_iterator end; it != end; it.increment(ec)) {
      if (ec) return FileError("reading directory", dir, ec.value());
      std::string path = it->path().string();
      bool is_dir = it->is_directory(ec) && !it->is_symlink(ec);
      if (is_dir) {
        // Directories that cannot hold a match are not entered.
        if (path.compare(0, match.size(), match) != 0 && match.compare(0, path.size() + 1, path + "/") != 0) continue;
      } else if (path.compare(0, match.size(), match) != 0) {
        continue;
      }
      std::string name = it->path().filename().string();
      entries.push_back({is_dir ? name + "/" : name, std::move(path), is_dir});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.sort_key < b.sort_key; });
    for (Entry& e : entries) {
      if (e.is_dir) {
        LOADSTAR_RETURN_IF_ERROR(Walk(e.path, match, sink));
        continue;
      }
      struct stat st {};
      if (::stat(e.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // vanished, or not a file
      ObjectInfo info{std::move(e.path), static_cast<uint64_t>(st.st_size), EtagOf(st)};
      LOADSTAR_RETURN_IF_ERROR(sink(std::move(info)));
    }
    return Status::Ok();
  }

 public:
  Status List(std::string_view prefix, const std::function<Status(ObjectInfo)>& sink) override {
    LOADSTAR_RETURN_IF_ERROR(RequireAbsolute(prefix));
    const std::string p(prefix);
    // A directory is walked whole; anything else is a path prefix inside its parent directory.
    std::error_code ec;
    fs::path root;
    std::string match;  // paths must start with this
    if (fs::is_directory(p, ec)) {
      root = p;
      match = p.back() == '/' ? p : p + "/";
    } else {
      // The caller says what it was listing ("listing file:///...: "); these say what went wrong.
      if (p.back() == '/') return Status::NotFound("directory " + p + " does not exist");
      root = fs::path(p).parent_path();
      match = p;
      if (!fs::is_directory(root, ec)) {
        return Status::NotFound("directory " + root.string() + " does not exist");
      }
    }

    return Walk(root.string(), match, sink);
  }

  Result<std::string> Get(std::string_view key) override {
    LOADSTAR_RETURN_IF_ERROR(RequireAbsolute(key));
    const std::string path(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FileError("reading", path, errno);
    Result<std::string> body = ReadWholeFile(fd, path);
    ::close(fd);
    return body;
  }

  void GetMany(const std::vector<std::string>& keys, size_t /*concurrency*/,
               const std::function<void(size_t, Result<std::string>)>& done) override {
    for (size_t i = 0; i < keys.size(); ++i) done(i, Get(keys[i]));
  }

  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length,
                               std::string_view etag) override {
    LOADSTAR_RETURN_IF_ERROR(RequireAbsolute(key));
    const std::string path(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FileError("reading", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return FileError("stat", path, err);
    }
    if (!etag.empty() && EtagOf(st) != etag) {
      ::close(fd);
      return Status::FailedPrecondition("reading " + path + ": the file changed after it was listed; run again");
    }
    std::string out;
    out.reserve(length + kBodyPadding);
    out.resize(length);
    uint64_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int err = n < 0 ? errno : 0;
        ::close(fd);
        if (err != 0) return FileError("reading", path, err);
        return Status::DataLoss("reading " + path + ": the file is shorter than expected");
      }
      done += static_cast<uint64_t>(n);
    }
    ::close(fd);
    return out;
  }

  Result<ObjectInfo> Head(std::string_view key) override {
    LOADSTAR_RETURN_IF_ERROR(RequireAbsolute(key));
    const std::string path(key);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return FileError("stat", path, errno);
    if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("stat " + path + ": not a regular file");
    return ObjectInfo{path, static_cast<uint64_t>(st.st_size), EtagOf(st)};
  }

  Status Delete(std::string_view key) override {
    LOADSTAR_RETURN_IF_ERROR(RequireAbsolute(key));
    const std::string path(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return FileError("removing", path, errno);
    return Status::Ok();
  }

  // Writes to a temporary file beside the target and renames it into place, so readers see the
  // old object or the new one, never a partial one. (Not fsync'd: atomic, not durable.)
  Status Put(std::string_view key, std::string_view body) override {
    LOADSTAR_RETURN_IF_ERROR(RequireAbsolute(key));
    const fs::path path{std::string(key)};
    if (path.filename().empty()) return Status::InvalidArgument("writing " + path.string() + ": names a directory");
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return FileError("creating directory", path.parent_path().string(), ec.value());

    static std::atomic<uint64_t> counter{0};
    const std::string tmp = (path.parent_path() / ("." + path.filename().string())).string() + ".tmp." +
                            std::to_string(::getpid()) + "." + std::to_string(counter++);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return FileError("writing", tmp, errno);
    size_t written = 0;
    while (written < body.size()) {
      ssize_t n = ::write(fd, body.data() + written, body.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return FileError("writing", tmp, err);
      }
      written += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return FileError("writing", tmp, err);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return FileError("renaming into place", path.string(), err);
    }
    return Status::Ok();
  }

  std::string UriFor(std::string_view key) const override { return "file://" + std::string(key); }
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const Uri& uri) {
  if (uri.is_file()) return std::unique_ptr<ObjectStore>(std::make_unique<FileObjectStore>());
  LOADSTAR_ASSIGN_OR_RETURN(AwsSettings settings, LoadAwsSettingsFromEnvironment());
  S3ClientOptions options;
  options.aws = std::move(settings);
  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, S3Client::Create(std::move(options)));
  return std::unique_ptr<ObjectStore>(std::make_unique<S3ObjectStore>(uri.bucket, std::move(client)));
}

}  // namespace loadstar

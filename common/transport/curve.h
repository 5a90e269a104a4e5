// CURVE keys for the coordinator/worker connection: making them, reading and writing key files,
// and naming a key in logs. Keys are Z85 text, 40 characters (32 bytes), as ZeroMQ writes them.
//
// A key file holds one key on a line of its own; blank lines and lines starting with '#' are
// ignored (no key starts with '#'). A secret key file holds the secret key only (the public key follows from it); an
// authorized-keys file holds any number of public keys, one a line, each optionally followed
// by white space and a comment ("rbN...x3 worker-7 on host-b").
//
// Secret keys are never logged and never part of a Status message.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace loadstar::transport {

inline constexpr size_t kZ85KeyChars = 40;

struct KeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// A new key pair from the system's random source.
Result<KeyPair> GenerateKeyPair();
// The public key that belongs to `secret_key`; InvalidArgument if it is not a Z85 key.
Result<std::string> PublicKeyOf(const std::string& secret_key);
// OK when `key` is 40 characters of Z85 text (what is checked does not echo the key).
Status CheckZ85Key(std::string_view key);

// A short name for a public key in logs: its first 12 Z85 characters, which is also how the
// key's line in a .pub or authorized-keys file begins.
std::string Fingerprint(std::string_view public_key);

// Reads a secret key file. Warns (once per file) when the file is readable by group or others.
Result<std::string> ReadSecretKeyFile(const std::string& path);
// Reads an authorized-keys file: the public keys it lists (at least one).
Result<std::vector<std::string>> ReadAuthorizedKeys(const std::string& path);
// A public key given as Z85 text or as the path of a file holding one (a .pub file).
Result<std::string> ReadPublicKey(const std::string& text_or_path);

// Writes `prefix`.key (the secret, mode 0600) and `prefix`.pub (the public key, mode 0644).
// FailedPrecondition when either exists: a key is never overwritten.
Status WriteKeyPair(const std::string& prefix, const KeyPair& keys);

}  // namespace loadstar::transport

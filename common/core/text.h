// Small text helpers the whole code base shares: ASCII case and white space, UTF-8 sequences,
// PostgreSQL COPY text escaping, and numbers for people. Pure functions, no locale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loadstar {

// `s` with A-Z turned into a-z; every other byte (UTF-8 included) unchanged.
std::string AsciiLower(std::string_view s);

// `s` without leading and trailing spaces, tabs, carriage returns and newlines.
std::string_view TrimWhitespace(std::string_view s);

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) at the start of `s`, or 0 if there is none (or `s` is empty).
size_t Utf8SequenceLength(std::string_view s);

// Characters, not bytes, in UTF-8 text: every byte that is not a continuation byte counts one.
size_t Utf8CharCount(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` that does not split a UTF-8 sequence (for
// text that is not UTF-8, at most three bytes shorter than that).
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// Appends `value` to `*out` escaped for PostgreSQL's COPY text format (backslash, tab, newline
// and carriage return), the one row encoding staging uses. COPY text cannot hold NUL: returns
// false, having appended the part before it, if `value` holds one.
bool AppendCopyText(std::string_view value, std::string* out);

// Appends the value one COPY text field stands for (the reverse of AppendCopyText; also reads
// \b, \f and \v) to `*out`. The field must not be \N (NULL).
void AppendUnescapedCopyText(std::string_view field, std::string* out);

// `n` with a comma every three digits: 1234567 -> "1,234,567".
std::string WithThousands(uint64_t n);

}  // namespace loadstar

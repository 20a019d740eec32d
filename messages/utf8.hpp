#pragma once
// Unicode checks on decoded text. Pure: no I/O.

#include <cstddef>
#include <string_view>

namespace flashsale {

/// True when `text` is UTF-8 of Unicode scalar values only (RFC 3629): no surrogate
/// code points (U+D800–U+DFFF, which a JSON escape such as "\udc00" can name on its
/// own and RapidJSON then decodes into bytes PostgreSQL refuses), no overlong forms,
/// nothing above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view text);

/// Code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

} // namespace flashsale

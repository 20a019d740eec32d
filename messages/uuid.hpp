#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flashsale {

/// A new time-ordered UUID (version 7: 48-bit Unix ms + random), lower-case text.
/// Time order keeps the primary-key index append-mostly. Thread safe.
std::string new_uuid();

/// Accepts the canonical 8-4-4-4-12 hex form in either case; returns it lower-cased.
std::optional<std::string> normalize_uuid(std::string_view text);

} // namespace flashsale

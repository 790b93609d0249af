// Internal: the names of an enum's values, as one table that both directions read.
//
// to_string() and parse_*() of the option enums (training mode, optimizer, schedule, SC
// multiply / accumulate / sharing) are this table looked up; an unknown name fails with
// "unknown <what> '<text>' (a, b or c)".
#pragma once

#include <fmt/format.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "spinsc/error.hpp"

namespace spinsc::detail {

template <class E, size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

template <class E, size_t N>
std::string enum_name(const EnumNames<E, N>& names, E value) {
  for (const auto& [v, name] : names)
    if (v == value) return std::string(name);
  return "?";
}

template <class E, size_t N>
E parse_enum(const EnumNames<E, N>& names, const std::string& text, std::string_view what) {
  std::string choices;
  for (size_t i = 0; i < N; ++i) {
    if (names[i].second == text) return names[i].first;
    choices += fmt::format("{}{}", i == 0 ? "" : i + 1 == N ? " or " : ", ", names[i].second);
  }
  fail("unknown {} '{}' ({})", what, text, choices);
}

}  // namespace spinsc::detail

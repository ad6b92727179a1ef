#pragma once
// The median every report figure is summarized by.

#include <algorithm>
#include <type_traits>
#include <vector>

namespace peakbench {

/// The median of `values`, 0 when empty. Between two middles, their mean; for integers rounded
/// down, so that an even number of repetitions still gives an integral byte count.
template <typename T>
T median_of(std::vector<T> values) {
  if (values.empty()) {
    return T{};
  }
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) {
    return values[mid];
  }
  if constexpr (std::is_integral_v<T>) {
    return values[mid - 1] + (values[mid] - values[mid - 1]) / 2;
  } else {
    return (values[mid - 1] + values[mid]) / 2;
  }
}

}  // namespace peakbench

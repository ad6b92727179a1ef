#pragma once
// `peakbench run --shard I/N`: which scenarios one CI runner measures. A pure function of the
// ordered scenario list, so every runner computes the same split and `peakbench merge` joins them.

#include <cstddef>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace peakbench {

/// Shard `index` (1-based) of `count`.
struct Shard {
  int index = 1;
  int count = 1;
};

/// Parses "I/N" with 1 <= I <= N; the error names the text.
Result<Shard> parse_shard(std::string_view text);

/// Round-robin: the items at positions index-1, index-1+count, ... of `items`, in order. Over
/// I = 1..N the selections are disjoint and their union is `items`. Requires a valid shard.
template <class T>
std::vector<T> select_shard(const std::vector<T>& items, Shard shard) {
  std::vector<T> selected;
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count) return selected;
  for (std::size_t i = static_cast<std::size_t>(shard.index - 1); i < items.size();
       i += static_cast<std::size_t>(shard.count)) {
    selected.push_back(items[i]);
  }
  return selected;
}

/// The same with the shard spelled as two numbers: select_shard(scenarios, 2, 4).
template <class T>
std::vector<T> select_shard(const std::vector<T>& items, int index, int count) {
  return select_shard(items, Shard{index, count});
}

}  // namespace peakbench

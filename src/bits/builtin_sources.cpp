// Registration of the built-in sources and the simulated count-variance factor.
#include "bits/builtin_sources.hpp"

#include <charconv>
#include <vector>

#include "spinsc/bitstream.hpp"
#include "spinsc/error.hpp"
#include "spinsc/sources.hpp"

namespace spinsc {
namespace detail {

void add_builtin_sources(SourceRegistry& registry) {
  registry.add("ideal", [](std::string_view arg) -> std::unique_ptr<BitSource> {
    if (!arg.empty()) fail("bit source 'ideal' takes no argument, got 'ideal:{}'", arg);
    return std::make_unique<IdealSource>();
  });
  registry.add("sobol", [](std::string_view arg) -> std::unique_ptr<BitSource> {
    if (!arg.empty()) fail("bit source 'sobol' takes no argument, got 'sobol:{}'", arg);
    return std::make_unique<SobolSource>();
  });
  registry.add("lfsr", [](std::string_view arg) -> std::unique_ptr<BitSource> {
    int n = 32;
    if (!arg.empty()) {
      const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
      if (ec != std::errc{} || end != arg.data() + arg.size() || n < 3 || n > 64)
        fail("bit source 'lfsr:{}': the register length must be an integer from 3 to 64", arg);
    }
    return std::make_unique<LfsrSource>(n);
  });
}

}  // namespace detail

double simulated_variance_factor(const BitSource& source, double p, int length, int streams) {
  if (streams < 2) fail("simulated_variance_factor: needs at least 2 streams, got {}", streams);
  Bitstream s(length);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < streams; ++i) {
    const StreamKey key{0x5ca1ab1eULL, static_cast<uint64_t>(i), 0, StreamRole::Weight, 0};
    source.generate(p, length, key, s.words.data());
    const double c = static_cast<double>(s.ones());
    sum += c;
    sum2 += c * c;
  }
  const double mean = sum / streams, var = (sum2 - sum * mean) / (streams - 1);
  const double m = mean / length;
  if (m <= 0.0 || m >= 1.0) return 1.0;  // a constant stream: the factor multiplies m(1-m) = 0
  return var / (length * m * (1.0 - m));
}

}  // namespace spinsc

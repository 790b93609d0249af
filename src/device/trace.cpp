#include "spinsc/trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"

namespace spinsc {

namespace fs = std::filesystem;

int64_t Trace::count_ones() const {
  int64_t n = 0;
  for (uint64_t w : words) n += std::popcount(w);
  return n;
}

namespace {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const size_t a = s.find_first_not_of(ws);
  if (a == std::string_view::npos) return {};
  return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

bool parse_number(std::string_view token, double& out) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
  return ec == std::errc() && end == token.data() + token.size() && std::isfinite(out);
}

enum class Format { Bits, Resistance, Voltage };

struct HeaderField {
  std::string value;
  int line = 0;
};

const std::set<std::string> kKeys = {"bias_current_A", "target_p",    "sample_period_s", "format", "units",
                                     "threshold",      "high_state", "temperature_K",   "samples", "note"};

class TraceParser {
 public:
  TraceParser(std::string_view text, const std::string& origin) : text_(text), origin_(origin) {}

  Trace parse() {
    trace_.origin = origin_;
    int line_no = 0;
    bool any_content = false;
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      const std::string_view line = trim(text_.substr(pos, end - pos));
      pos = end + 1;
      ++line_no;
      if (line.empty()) continue;
      any_content = true;
      if (line.starts_with("##")) continue;
      if (line.front() == '#') {
        if (first_sample_line_) fail("{}:{}: header line after the first sample", origin_, line_no);
        header_line(line.substr(1), line_no);
        continue;
      }
      if (!first_sample_line_) {
        first_sample_line_ = line_no;
        finish_header(line_no);
      }
      samples_line(line, line_no);
    }
    if (!any_content) fail("{}:1: empty file", origin_);
    if (!first_sample_line_) fail("{}:{}: no samples after the header", origin_, line_no);
    finish_samples();
    return std::move(trace_);
  }

 private:
  void header_line(std::string_view body, int line_no) {
    body = trim(body);
    if (body.empty()) return;
    const size_t colon = body.find(':');
    if (colon == std::string_view::npos)
      fail("{}:{}: header line '# {}' is not '# key: value' (use '##' for comments)", origin_, line_no, body);
    const std::string key(trim(body.substr(0, colon)));
    const std::string value(trim(body.substr(colon + 1)));
    if (!kKeys.count(key)) {
      std::string known;
      for (auto& k : kKeys) known += (known.empty() ? "" : ", ") + k;
      fail("{}:{}: unknown header key '{}' (known: {})", origin_, line_no, key, known);
    }
    if (value.empty()) fail("{}:{}: header key '{}' has no value", origin_, line_no, key);
    if (header_.count(key)) fail("{}:{}: header key '{}' repeats line {}", origin_, line_no, key, header_[key].line);
    header_[key] = {value, line_no};
  }

  double number(const std::string& key, double min, double max, bool open_min) {
    const HeaderField& f = header_.at(key);
    double v = 0;
    if (!parse_number(f.value, v)) fail("{}:{}: {} '{}' is not a number", origin_, f.line, key, f.value);
    if (v < min || v > max || (open_min && v == min))
      fail("{}:{}: {} = {} is out of range {}{}, {}]", origin_, f.line, key, v, open_min ? "(" : "[", min, max);
    return v;
  }

  int64_t integer(const std::string& key, int64_t min, int64_t max) {
    const HeaderField& f = header_.at(key);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), v);
    if (ec != std::errc() || end != f.value.data() + f.value.size())
      fail("{}:{}: {} '{}' is not a whole number", origin_, f.line, key, f.value);
    if (v < min || v > max) fail("{}:{}: {} = {} is out of range [{}, {}]", origin_, f.line, key, v, min, max);
    return v;
  }

  void require(const char* key, int line_no, const char* why) {
    if (!header_.count(key)) fail("{}:{}: the header lacks '{}' ({})", origin_, line_no, key, why);
  }

  void finish_header(int line_no) {
    if (!header_.count("bias_current_A") && !header_.count("target_p"))
      fail("{}:{}: the header lacks 'bias_current_A' or 'target_p' (one of them names the bias point)", origin_, line_no);
    if (header_.count("bias_current_A")) trace_.bias_current_A = number("bias_current_A", -1e3, 1e3, false);
    if (header_.count("target_p")) trace_.target_p = number("target_p", 0, 1, false);
    require("sample_period_s", line_no, "the time between samples, in seconds");
    trace_.sample_period_s = number("sample_period_s", 0, 1e9, true);
    require("format", line_no, "bits, resistance or voltage");
    const HeaderField& f = header_.at("format");
    if (f.value == "bits") format_ = Format::Bits;
    else if (f.value == "resistance") format_ = Format::Resistance;
    else if (f.value == "voltage") format_ = Format::Voltage;
    else fail("{}:{}: format '{}' is not one of bits, resistance, voltage", origin_, f.line, f.value);

    if (format_ == Format::Bits) {
      if (header_.count("units") && header_["units"].value != "bit" && header_["units"].value != "bits")
        fail("{}:{}: unknown units '{}' for format bits (use 'bits' or leave it out)", origin_, header_["units"].line,
             header_["units"].value);
      if (header_.count("threshold"))
        fail("{}:{}: a threshold means nothing for format bits", origin_, header_["threshold"].line);
    } else {
      require("units", line_no, format_ == Format::Resistance ? "ohm, kohm or Mohm" : "V, mV or uV");
      const HeaderField& u = header_.at("units");
      const std::set<std::string> ok = format_ == Format::Resistance
                                           ? std::set<std::string>{"ohm", "Ohm", "kohm", "kOhm", "Mohm", "MOhm"}
                                           : std::set<std::string>{"V", "mV", "uV"};
      if (!ok.count(u.value))
        fail("{}:{}: unknown units '{}' for format {} (use {})", origin_, u.line, u.value, f.value,
             format_ == Format::Resistance ? "ohm, kohm, Mohm" : "V, mV, uV");
      require("threshold", line_no, "the value separating the two states, in the units of the samples");
      threshold_ = number("threshold", -1e300, 1e300, false);
    }
    if (header_.count("high_state")) {
      const HeaderField& h = header_.at("high_state");
      if (h.value != "ap" && h.value != "p")
        fail("{}:{}: high_state '{}' is not 'ap' or 'p'", origin_, h.line, h.value);
      high_is_ap_ = h.value == "ap";
    }
    if (header_.count("temperature_K")) trace_.temperature_K = number("temperature_K", 0, 1e4, true);
    if (header_.count("samples")) expected_samples_ = integer("samples", 1, int64_t{1} << 50);
    if (header_.count("note")) trace_.note = header_.at("note").value;
  }

  void push(bool high) {
    const bool one = high == high_is_ap_;
    if ((trace_.length & 63) == 0) trace_.words.push_back(0);
    if (one) trace_.words.back() |= 1ULL << (trace_.length & 63);
    ++trace_.length;
  }

  void samples_line(std::string_view line, int line_no) {
    size_t pos = 0;
    while (pos < line.size()) {
      const size_t a = line.find_first_not_of(" \t\r,;", pos);
      if (a == std::string_view::npos) break;
      size_t b = line.find_first_of(" \t\r,;", a);
      if (b == std::string_view::npos) b = line.size();
      const std::string_view token = line.substr(a, b - a);
      pos = b;
      if (format_ == Format::Bits) {
        for (char ch : token) {
          if (ch != '0' && ch != '1')
            fail("{}:{}: sample '{}' is not a string of bits (0 or 1)", origin_, line_no, token);
          push(ch == '1');
        }
      } else {
        double v = 0;
        if (!parse_number(token, v)) fail("{}:{}: sample '{}' is not a number", origin_, line_no, token);
        if (format_ == Format::Resistance && v <= 0)
          fail("{}:{}: resistance sample {} is not positive", origin_, line_no, v);
        const bool high = v > threshold_;
        (high ? above_ : below_)++;
        push(high);
      }
    }
  }

  void finish_samples() {
    if (trace_.length == 0) fail("{}:{}: no samples after the header", origin_, *first_sample_line_);
    if (format_ != Format::Bits && (above_ == 0 || below_ == 0)) {
      const HeaderField& t = header_.at("threshold");
      fail("{}:{}: threshold {} {} gives a constant stream: all {} samples are {} it", origin_, t.line, t.value,
           header_.at("units").value, trace_.length, above_ == 0 ? "at or below" : "above");
    }
    if (expected_samples_ && *expected_samples_ != trace_.length)
      fail("{}:{}: the header says {} samples, the file has {}", origin_, header_.at("samples").line,
           *expected_samples_, trace_.length);
  }

  std::string_view text_;
  std::string origin_;
  Trace trace_;
  std::map<std::string, HeaderField> header_;
  std::optional<int> first_sample_line_;
  Format format_ = Format::Bits;
  double threshold_ = 0;
  bool high_is_ap_ = true;
  int64_t above_ = 0, below_ = 0;
  std::optional<int64_t> expected_samples_;
};

std::string one_line(const std::string& s) {
  std::string out = s;
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

std::string header_text(const Trace& t, const char* format) {
  std::string h = "## spinsc trace (docs/device.md): one bias point; state AP = high\n";
  if (t.bias_current_A) h += fmt::format("# bias_current_A: {:.10g}\n", *t.bias_current_A);
  if (t.target_p) h += fmt::format("# target_p: {:.10g}\n", *t.target_p);
  h += fmt::format("# sample_period_s: {:.10g}\n# format: {}\n# high_state: ap\n", t.sample_period_s, format);
  if (t.temperature_K) h += fmt::format("# temperature_K: {:.10g}\n", *t.temperature_K);
  h += fmt::format("# samples: {}\n", t.length);
  if (!t.note.empty()) h += "# note: " + one_line(t.note) + "\n";
  return h;
}

}  // namespace

Trace parse_trace(std::string_view text, const std::string& origin) { return TraceParser(text, origin).parse(); }

Trace read_trace(const fs::path& path) { return parse_trace(read_file(path), path.string()); }

std::string format_trace(const Trace& t) {
  std::string s = header_text(t, "bits");
  s.reserve(s.size() + static_cast<size_t>(t.length + t.length / 64 + 1));
  for (int64_t i = 0; i < t.length; ++i) {
    s += t.bit(i) ? '1' : '0';
    if (i % 64 == 63 || i + 1 == t.length) s += '\n';
  }
  return s;
}

void write_trace(const fs::path& path, const Trace& trace) { write_file_atomic(path, format_trace(trace)); }

std::string format_resistance_trace(const Trace& meta, const std::vector<double>& ohms, double threshold_ohm) {
  Trace m = meta;
  m.length = static_cast<int64_t>(ohms.size());
  std::string s = header_text(m, "resistance");
  s += fmt::format("# units: ohm\n# threshold: {:.10g}\n", threshold_ohm);
  for (double r : ohms) s += fmt::format("{:.6g}\n", r);
  return s;
}

std::vector<fs::path> trace_library_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail("trace library '{}' is not a directory{}", dir.string(), ec ? " (" + ec.message() + ")" : std::string());
  std::vector<fs::path> files;
  for (const auto& f : regular_files_in(dir))
    if (f.extension() == ".trace") files.push_back(f);
  if (files.empty()) fail("trace library '{}' has no *.trace files (convert raw files with `spinsc device import`)", dir.string());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Trace> load_trace_library(const fs::path& dir) {
  std::vector<Trace> traces;
  for (const auto& f : trace_library_files(dir)) traces.push_back(read_trace(f));
  return traces;
}

std::vector<fs::path> import_traces(const fs::path& in, const fs::path& out_dir) {
  std::vector<fs::path> inputs;
  std::error_code ec;
  if (fs::is_directory(in, ec)) {
    for (const auto& f : regular_files_in(in))
      if (!f.filename().string().starts_with(".") && f.extension() != ".json") inputs.push_back(f);
    std::sort(inputs.begin(), inputs.end());
    if (inputs.empty()) fail("import: directory '{}' has no files", in.string());
  } else if (fs::is_regular_file(in, ec)) {
    inputs.push_back(in);
  } else {
    fail("import: '{}' is neither a file nor a directory{}", in.string(), ec ? " (" + ec.message() + ")" : std::string());
  }
  std::vector<Trace> traces;
  std::vector<fs::path> outputs;
  std::set<fs::path> seen;
  for (const auto& f : inputs) {
    traces.push_back(read_trace(f));
    fs::path out = out_dir / f.stem();
    out += ".trace";
    if (!seen.insert(out).second) fail("import: two inputs would both be written to '{}'", out.string());
    outputs.push_back(out);
  }
  fs::create_directories(out_dir, ec);
  if (ec) fail("import: cannot create '{}': {}", out_dir.string(), ec.message());
  for (size_t i = 0; i < traces.size(); ++i) {
    if (traces[i].note.empty()) traces[i].note = "imported from " + inputs[i].filename().string();
    write_trace(outputs[i], traces[i]);
  }
  return outputs;
}

void copy_bits(const uint64_t* src, int64_t src_length, int64_t offset, int64_t length, uint64_t* dst) {
  const int64_t src_words = (src_length + 63) / 64;
  const int64_t n = (length + 63) / 64;
  const int shift = static_cast<int>(offset & 63);
  int64_t w = offset >> 6;
  for (int64_t i = 0; i < n; ++i, ++w) {
    uint64_t v = src[w] >> shift;
    if (shift && w + 1 < src_words) v |= src[w + 1] << (64 - shift);
    dst[i] = v;
  }
  if (length % 64) dst[n - 1] &= ~0ULL >> (64 - length % 64);
}

}  // namespace spinsc

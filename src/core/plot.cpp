#include "spinsc/plot.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"

namespace spinsc {

namespace fs = std::filesystem;

void write_csv(const fs::path& path, const CsvTable& table) {
  std::string text;
  for (size_t c = 0; c < table.columns.size(); ++c) text += (c ? "," : "") + table.columns[c];
  text += "\n";
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) text += fmt::format("{}{:.10g}", c ? "," : "", row[c]);
    text += "\n";
  }
  write_file_atomic(path, text);
}

namespace {

std::string quoted(const fs::path& p) {
  std::string s = "'";
  for (char c : p.string()) s += (c == '\'') ? std::string("''") : std::string(1, c);
  return s + "'";
}

}  // namespace

void render_plot(const fs::path& image, const fs::path& csv, const std::string& body, int width, int height) {
  const std::string ext = image.extension().string();
  std::string terminal;
  if (ext == ".png")
    terminal = fmt::format("pngcairo size {},{} enhanced font 'sans,10'", width, height);
  else if (ext == ".svg")
    terminal = fmt::format("svg size {},{} enhanced font 'sans,10' background rgb 'white'", width, height);
  else
    fail("plot '{}': the extension must be .png or .svg", image.string());
  const fs::path tmp = image.parent_path() / fmt::format(".{}.tmp{}", image.filename().string(), ext);
  std::string script = fmt::format("set terminal {}\nset output {}\nset datafile separator ','\n", terminal, quoted(tmp));
  std::string b = body;
  for (size_t pos = 0; (pos = b.find("DATA", pos)) != std::string::npos;) {
    b.replace(pos, 4, quoted(csv));
    pos += csv.string().size();
  }
  script += b + "\nset output\n";
  fs::path gp = image;
  gp += ".gp";
  write_file_atomic(gp, script);
  const pid_t pid = ::fork();
  if (pid < 0) fail("plot '{}': cannot start gnuplot", image.string());
  if (pid == 0) {
    ::execlp("gnuplot", "gnuplot", gp.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      fail("plot '{}': gnuplot is not installed (apt-get install gnuplot-nox); the data is in '{}'", image.string(), csv.string());
    fail("plot '{}': gnuplot failed on '{}'", image.string(), gp.string());
  }
  std::error_code ec;
  fs::rename(tmp, image, ec);
  if (ec) fail("plot '{}': cannot rename the rendered image: {}", image.string(), ec.message());
}

}  // namespace spinsc

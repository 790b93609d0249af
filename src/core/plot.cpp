#include "spinsc/plot.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>

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

std::string gnuplot_string(std::string_view text) {
  // gnuplot 5.4 mis-parses its own '' escape just before a closing quote ('x''' is an error), so a
  // quote is spliced in by concatenation instead: a'b becomes 'a'."'".'b'.
  std::string s = "'";
  for (char c : text) {
    if (c == '\'')
      s += "'.\"'\".'";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      s += ' ';
    else
      s += c;
  }
  return s + "'";
}

namespace {

std::string quoted(const fs::path& p) { return gnuplot_string(p.string()); }

// Whether the image gnuplot wrote is whole: a PNG ends in its IEND chunk, a PDF in %%EOF, an SVG closes with
// </svg>. gnuplot can exit 0 after a failed write (a full disk), leaving a truncated file.
bool image_complete(const fs::path& file, const std::string& ext) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const std::streamoff size = in.tellg();
  const std::streamoff tail = std::min<std::streamoff>(size, 64);
  std::string end(static_cast<size_t>(tail), '\0');
  in.seekg(size - tail);
  if (!in.read(end.data(), tail)) return false;
  if (ext == ".png") {
    static const std::string iend("IEND\xae\x42\x60\x82", 8);
    return end.size() >= iend.size() && end.compare(end.size() - iend.size(), iend.size(), iend) == 0;
  }
  if (ext == ".pdf") return end.find("%%EOF") != std::string::npos;
  const auto close = end.rfind("</svg>");
  return close != std::string::npos && end.find_first_not_of(" \r\n\t", close + 6) == std::string::npos;
}

}  // namespace

void render_plot(const fs::path& image, const fs::path& csv, const std::string& body, int width, int height) {
  const std::string ext = image.extension().string();
  std::string terminal;
  if (ext == ".png")
    terminal = fmt::format("pngcairo size {},{} enhanced font 'sans,10'", width, height);
  else if (ext == ".svg")
    terminal = fmt::format("svg size {},{} enhanced font 'sans,10' background rgb 'white'", width, height);
  else if (ext == ".pdf")  // pdfcairo sizes in inches: the pixel size at 100 per inch
    terminal = fmt::format("pdfcairo size {:.2f},{:.2f} enhanced font 'sans,7'", width / 100.0, height / 100.0);
  else
    fail("plot '{}': the extension must be .png, .svg or .pdf", image.string());
  const fs::path tmp = image.parent_path() / fmt::format(".{}.tmp{}", image.filename().string(), ext);
  // DATA is a gnuplot variable, not a text substitution: a "DATA" inside a quoted title stays text.
  const std::string script = fmt::format("set terminal {}\nset output {}\nset datafile separator ','\nDATA = {}\n{}\nset output\n",
                                         terminal, quoted(tmp), quoted(csv), body);
  fs::path gp = image;
  gp += ".gp";
  write_file_atomic(gp, script);
  // gnuplot's diagnostics come back through a pipe rather than the program's stderr (the library
  // prints nothing): warnings of a successful run are dropped, the messages of a failed one go
  // into the error.
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) fail("plot '{}': cannot start gnuplot (pipe)", image.string());
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fd[0]);
    ::close(pipe_fd[1]);
    fail("plot '{}': cannot start gnuplot", image.string());
  }
  if (pid == 0) {
    ::dup2(pipe_fd[1], STDERR_FILENO);
    ::dup2(pipe_fd[1], STDOUT_FILENO);
    ::close(pipe_fd[0]);
    ::close(pipe_fd[1]);
    ::execlp("gnuplot", "gnuplot", gp.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fd[1]);
  std::string diagnostics;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fd[0], chunk, sizeof chunk);
    if (n > 0) {
      if (diagnostics.size() < 4096) diagnostics.append(chunk, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(pipe_fd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      fail("plot '{}': gnuplot is not installed (apt-get install gnuplot-nox); the data is in '{}'", image.string(), csv.string());
    while (!diagnostics.empty() && (diagnostics.back() == '\n' || diagnostics.back() == ' ')) diagnostics.pop_back();
    fail("plot '{}': gnuplot failed on '{}'{}{}", image.string(), gp.string(), diagnostics.empty() ? "" : ": ", diagnostics);
  }
  std::error_code ec;
  if (!image_complete(tmp, ext)) {
    fs::remove(tmp, ec);
    fail("plot '{}': gnuplot wrote an incomplete image (is the disk full?); the data is in '{}'", image.string(),
         csv.string());
  }
  sync_path(tmp);  // gnuplot does not flush its output: done here, before the rename makes it visible
  fs::rename(tmp, image, ec);
  if (ec) fail("plot '{}': cannot rename the rendered image: {}", image.string(), ec.message());
  sync_path(image.has_parent_path() ? image.parent_path() : fs::path("."));
}

}  // namespace spinsc

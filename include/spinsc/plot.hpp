// Plots through gnuplot: every figure is a CSV (the data behind it, always written) plus a
// gnuplot script rendered to PNG (pngcairo), SVG or PDF (pdfcairo), chosen by the output file's
// extension.
//
// render_plot() writes <out>.gp beside the image and runs `gnuplot` on it. The image is
// written atomically (gnuplot renders to a temporary name that is then renamed, after checking
// that the image is complete: a PNG ends in its IEND chunk, an SVG in </svg>, a PDF in %%EOF; a full disk can
// leave gnuplot exiting 0 with a truncated file). When
// gnuplot is not installed it throws spinsc::Error saying so (the CSV is still there).
// Thread-safety: independent calls are safe; do not render the same output from two threads.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace spinsc {

// A table of numbers written as CSV: header row then rows of values.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
};
void write_csv(const std::filesystem::path& path, const CsvTable& table);

// A gnuplot string literal that stands for `text` verbatim: single-quoted, so gnuplot expands no
// backquoted command and no @macro inside it; a quote in the text is spliced in as "'". Control characters (a newline
// would end the command) become spaces. Every text that reaches a script from outside the program
// (names in device and hardware files, file names, labels) goes through it; mark titles and key
// entries `noenhanced` so that '_' and '^' print as themselves.
std::string gnuplot_string(std::string_view text);

// `body` is the gnuplot commands after the terminal and output are set (title, labels, plot
// ...); it may refer to the data file as DATA (a gnuplot variable holding the CSV path, which uses
// "," as separator: the script sets `set datafile separator ","`).
void render_plot(const std::filesystem::path& image, const std::filesystem::path& csv, const std::string& body,
                 int width = 900, int height = 600);

}  // namespace spinsc

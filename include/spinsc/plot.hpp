// Plots through gnuplot: every figure is a CSV (the data behind it, always written) plus a
// gnuplot script rendered to PNG (pngcairo) or SVG, chosen by the output file's extension.
//
// render_plot() writes <out>.gp beside the image and runs `gnuplot` on it. The image is
// written atomically (gnuplot renders to a temporary name that is then renamed). When
// gnuplot is not installed it throws spinsc::Error saying so (the CSV is still there).
// Thread-safety: independent calls are safe; do not render the same output from two threads.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace spinsc {

// A table of numbers written as CSV: header row then rows of values.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
};
void write_csv(const std::filesystem::path& path, const CsvTable& table);

// `body` is the gnuplot commands after the terminal and output are set (title, labels, plot
// ...); it may refer to the data file as DATA (replaced by the quoted CSV path, which uses
// "," as separator: the script sets `set datafile separator ","`).
void render_plot(const std::filesystem::path& image, const std::filesystem::path& csv, const std::string& body,
                 int width = 900, int height = 600);

}  // namespace spinsc

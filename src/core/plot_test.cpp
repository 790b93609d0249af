#include "spinsc/plot.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "spinsc/error.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

namespace fs = std::filesystem;

TEST(GnuplotString, QuotesAndControlCharacters) {
  EXPECT_EQ(gnuplot_string("plain"), "'plain'");
  EXPECT_EQ(gnuplot_string(""), "''");
  EXPECT_EQ(gnuplot_string("a'b"), "'a'.\"'\".'b'");
  EXPECT_EQ(gnuplot_string("x'"), "'x'.\"'\".''");
  EXPECT_EQ(gnuplot_string("a\nb\tc"), "'a b c'");
  // Backquotes, @ and double quotes stay verbatim: gnuplot expands none of them in single quotes.
  EXPECT_EQ(gnuplot_string("`touch x` @m \"q\""), "'`touch x` @m \"q\"'");
}

// A hostile title and a hostile output folder: the plot renders, the title is text, nothing runs.
TEST(RenderPlot, HostileTextIsData) {
  const fs::path dir = testing::temp_dir("plot") / "o'u`touch PWNED_DIR`t DATA";
  fs::create_directories(dir);
  write_csv(dir / "d.csv", CsvTable{{"x", "y"}, {{1, 2}, {2, 3}}});
  for (const std::string title : {"x' ; system 'touch PWNED' ; set title '", "x\" ; system \"touch PWNED\" ; \"",
                                  "`touch PWNED`", "DATA '", "line\nsystem 'touch PWNED'"}) {
    render_plot(dir / "p.png", dir / "d.csv",
                "set title " + gnuplot_string(title) + " noenhanced\nplot DATA skip 1 using 1:2 title " +
                    gnuplot_string(title) + " noenhanced");
    std::ifstream png(dir / "p.png", std::ios::binary);
    char head[4] = {};
    png.read(head, 4);
    EXPECT_EQ(std::string(head + 1, 3), "PNG") << title;
  }
  EXPECT_FALSE(fs::exists("PWNED"));
  EXPECT_FALSE(fs::exists(dir / "PWNED"));
  EXPECT_FALSE(fs::exists("PWNED_DIR"));
}

TEST(RenderPlot, RefusesOtherExtensions) {
  const fs::path dir = testing::temp_dir("plot_ext");
  write_csv(dir / "d.csv", CsvTable{{"x"}, {{1}}});
  EXPECT_THROW(render_plot(dir / "p.jpg", dir / "d.csv", "plot DATA using 1"), Error);
}

}  // namespace
}  // namespace spinsc

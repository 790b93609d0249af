#!/usr/bin/env bash
# `cmake --install` gives a package that another CMake project finds with find_package(spinsc):
# a small program built against the installed headers and libraries loads a model and runs it.
spinsc=${1:?usage: install_package.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=$(dirname "$spinsc")

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null || fail "cmake --install failed"
[[ -x $tmp/prefix/bin/spinsc ]] || fail "the program is not installed"
[[ -f $tmp/prefix/include/spinsc/network.hpp ]] || fail "the headers are not installed"
mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(consumer LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(spinsc REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE spinsc::spinsc)
CM
cat > "$tmp/consumer/main.cpp" <<'CPP'
#include <cstdio>
#include <vector>

#include "spinsc/digital.hpp"
#include "spinsc/model_io.hpp"

int main(int argc, char** argv) {
  const spinsc::Network net = spinsc::load_model(argv[1]);
  std::vector<float> x(net.arch.front(), 0.5f);
  const std::vector<float> y = spinsc::digital_forward(net, x.data());
  std::printf("%s %zu\n", spinsc::to_string(net.architecture).c_str(), y.size());
  return 0;
}
CPP
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null ||
  fail "find_package(spinsc) failed"
cmake --build "$tmp/consumer/build" >/dev/null || fail "the consumer does not build against the installed package"
out=$("$tmp/consumer/build/consumer" "$src/tests/data/mlp-v1-784-16-10-k5.safetensors")
[[ $out == "784,16,10 10" ]] || fail "consumer printed '$out'"
echo "installed package: find_package(spinsc) works, consumer ran"

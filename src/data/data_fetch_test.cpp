#include "spinsc/data_fetch.hpp"

#include <gtest/gtest.h>

#include "spinsc/files.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

namespace fs = std::filesystem;

// FIPS 180-4 / NIST example vectors.
TEST(Sha256, FipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
                       "nopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the 55/56/64-byte padding boundaries, against values from coreutils sha256sum.
TEST(Sha256, PaddingBoundaries) {
  EXPECT_EQ(sha256_hex(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256_hex(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(VerifyMnist, ReportsMissingDamagedAndGoodFiles) {
  const fs::path dir = testing::temp_dir("verify");
  const fs::path real = testing::data_dir();
  // Labels are small: copy the real test labels, damage a copy of the train labels, leave images out.
  write_file_atomic(dir / "t10k-labels-idx1-ubyte", read_file(real / "t10k-labels-idx1-ubyte"));
  std::string train = read_file(real / "train-labels-idx1-ubyte");
  train[100] ^= 1;
  write_file_atomic(dir / "train-labels-idx1-ubyte", train);
  const auto status = verify_mnist(dir);
  ASSERT_EQ(status.size(), 4u);
  for (const auto& s : status) {
    EXPECT_EQ(s.expected_sha256.size(), 64u);
    if (s.file == "t10k-labels-idx1-ubyte") {
      EXPECT_TRUE(s.present && s.verified);
      EXPECT_EQ(s.sha256, s.expected_sha256);
    } else if (s.file == "train-labels-idx1-ubyte") {
      EXPECT_TRUE(s.present);
      EXPECT_FALSE(s.verified);
      EXPECT_NE(s.sha256, s.expected_sha256);
    } else {
      EXPECT_FALSE(s.present || s.verified) << s.file;
      EXPECT_TRUE(s.sha256.empty());
    }
  }
}

TEST(VerifyMnist, TheFetchedFilesMatchSpec) {
  for (const auto& s : verify_mnist(testing::data_dir())) EXPECT_TRUE(s.verified) << s.file << " sha256 " << s.sha256;
}

}  // namespace
}  // namespace spinsc

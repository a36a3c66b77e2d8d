// The test program's entry: GoogleTest, then one machine-readable summary line that
// tools/run_tests.sh adds up over the build configurations into "N passed, M failed".
#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  int status = RUN_ALL_TESTS();
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  std::printf("pixelgrad-tests: %d passed, %d failed, %d skipped\n", unit.successful_test_count(),
              unit.failed_test_count(), unit.skipped_test_count());
  return status;
}

// Numeric CSV files: the header rules (no silent loss of a first row, a byte order mark skipped),
// paths that are not readable files, value bounds, and the block-by-block reader that keeps
// memory bounded while still refusing a file with a bad row anywhere.
#include "deepik/data/csv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "deepik/errors.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::TempDir;
using testing::WriteBytes;

// The message of the InputError that `action` throws ("" when it throws none).
template <typename Action>
std::string ErrorOf(Action action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

CsvColumns Columns(int count) {
  CsvColumns columns;
  columns.count = count;
  return columns;
}

CsvColumns Xyz() {
  CsvColumns columns;
  columns.names = {"x", "y", "z"};
  columns.max_magnitude = kMaxTargetCoordinate;
  return columns;
}

TEST(CsvReaderTest, BlocksHoldAtMostTheAskedRowsWithTheirLineNumbers) {
  TempDir dir;
  const std::string path = dir.Path("q.csv");
  // Rows i = 0..9 with values (i, -i); blank lines in between do not count as rows.
  std::string text = "a,b\n";
  for (int i = 0; i < 10; ++i)
    text += std::to_string(i) + "," + std::to_string(-i) + (i == 4 ? "\n\n" : "\n");
  WriteBytes(path, text);
  NumericCsvReader reader(path, Columns(2));
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"a", "b"}));
  NumericRows rows;
  std::vector<size_t> sizes;
  std::vector<int64_t> lines;
  std::vector<double> firsts;
  while (reader.ReadChunk(3, &rows)) {
    sizes.push_back(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      lines.push_back(rows.line_numbers[r]);
      firsts.push_back(rows.row(r)[0]);
      EXPECT_EQ(rows.row(r)[1], -rows.row(r)[0]);
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 3, 1}));
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 3, 4, 5, 6, 8, 9, 10, 11, 12}));
  EXPECT_EQ(firsts, (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(rows.size(), 0u);
  EXPECT_FALSE(reader.ReadChunk(3, &rows));  // stays at the end
}

TEST(CsvReaderTest, MemoryStaysWithinOneBlockWhateverTheFileLength) {
  TempDir dir;
  const std::string path = dir.Path("long.csv");
  std::string text = "a,b,c,d\n";
  for (int i = 0; i < 50000; ++i) text += "0.125,-1,2.5e-3," + std::to_string(i) + "\n";
  WriteBytes(path, text);
  NumericCsvReader reader(path, Columns(4));
  NumericRows rows;
  int64_t count = 0;
  size_t most_values = 0, most_lines = 0;
  while (reader.ReadChunk(1000, &rows)) {
    ASSERT_LE(rows.size(), 1000u);
    EXPECT_EQ(rows.row(rows.size() - 1)[3],
              static_cast<double>(count + static_cast<int64_t>(rows.size()) - 1));
    count += static_cast<int64_t>(rows.size());
    most_values = std::max(most_values, rows.values.capacity());
    most_lines = std::max(most_lines, rows.line_numbers.capacity());
  }
  EXPECT_EQ(count, 50000);
  // The block's storage is reused, never grown past one block (x2 for a vector's doubling).
  EXPECT_LE(most_values, 2u * 1000u * 4u);
  EXPECT_LE(most_lines, 2u * 1000u);
}

TEST(CsvReaderTest, ABadRowLateInTheFileStopsTheRowsAndIsReportedAtTheEnd) {
  TempDir dir;
  const std::string path = dir.Path("late.csv");
  // Good rows on lines 2..7, bad ones on lines 8 and 11, good ones around them.
  WriteBytes(path, "x,y,z\n1,0,0\n2,0,0\n3,0,0\n4,0,0\n5,0,0\n6,0,0\n7,abc,0\n8,0,0\n9,0,0\n10,0\n11,0,0\n");
  NumericCsvReader reader(path, Xyz());
  NumericRows rows;
  ASSERT_TRUE(reader.ReadChunk(3, &rows));
  EXPECT_EQ(rows.line_numbers, (std::vector<int64_t>{2, 3, 4}));
  ASSERT_TRUE(reader.ReadChunk(3, &rows));
  EXPECT_EQ(rows.line_numbers, (std::vector<int64_t>{5, 6, 7}));
  // The block with the bad row is never handed out; the reader reads on to list every bad row.
  const std::string message = ErrorOf([&] { reader.ReadChunk(3, &rows); });
  EXPECT_NE(message.find("2 bad rows in " + path), std::string::npos) << message;
  EXPECT_NE(message.find(path + ":8: column 2 (y): expected a number, got 'abc'"), std::string::npos)
      << message;
  EXPECT_NE(message.find(path + ":11: expected 3 columns, got 2"), std::string::npos) << message;
  EXPECT_EQ(rows.size(), 0u);
}

TEST(CsvReaderTest, AFirstLineOfNumbersIsNotTakenForAHeader) {
  TempDir dir;
  const std::string path = dir.Path("q.csv");
  WriteBytes(path, "0,0.5,0,0\n0,1,0,0\n");
  std::string message = ErrorOf([&] { NumericCsvReader reader(path, Columns(4)); });
  EXPECT_NE(message.find(path + ":1: expected a header line"), std::string::npos) << message;
  EXPECT_NE(message.find("'0,0.5,0,0'"), std::string::npos) << message;
  // With named columns the message says which header.
  WriteBytes(path, "\n1,2,3\n4,5,6\n");
  message = ErrorOf([&] { ReadNumericCsv(path, Xyz()); });
  EXPECT_NE(message.find(path + ":2: expected the header x,y,z, got '1,2,3'"), std::string::npos) << message;
  EXPECT_NE(message.find("first row would be lost"), std::string::npos) << message;
  // One number among names is enough to refuse it; so is another header.
  WriteBytes(path, "x,2,z\n4,5,6\n");
  EXPECT_NE(ErrorOf([&] { ReadNumericCsv(path, Columns(3)); }).find("expected a header line"),
            std::string::npos);
  WriteBytes(path, "a,b,c\n4,5,6\n");
  EXPECT_NE(ErrorOf([&] { ReadNumericCsv(path, Xyz()); }).find("expected the header x,y,z, got 'a,b,c'"),
            std::string::npos);
  WriteBytes(path, "a,b,c\n4,5,6\n");
  EXPECT_NE(ErrorOf([&] { ReadNumericCsv(path, Columns(4)); }).find(":1: header: expected 4 columns, got 3"),
            std::string::npos);
}

TEST(CsvReaderTest, AUtf8ByteOrderMarkIsSkipped) {
  TempDir dir;
  const std::string path = dir.Path("bom.csv");
  WriteBytes(path, "\xEF\xBB\xBFx,y,z\r\n1,2,3\r\n");
  const NumericCsv table = ReadNumericCsv(path, Xyz());
  EXPECT_EQ(table.header, (std::vector<std::string>{"x", "y", "z"}));
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0], (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(table.line_numbers[0], 2);
  // Skipping the mark does not make a headerless file acceptable.
  WriteBytes(path,
             "\xEF\xBB\xBF"
             "1,2,3\n4,5,6\n");
  EXPECT_NE(ErrorOf([&] { ReadNumericCsv(path, Xyz()); }).find(":1: expected the header x,y,z"),
            std::string::npos);
}

TEST(CsvReaderTest, PathsThatAreNotReadableFilesAreNamedAsSuch) {
  TempDir dir;
  std::string message = ErrorOf([&] { ReadNumericCsv(dir.path().string(), Columns(3)); });
  EXPECT_NE(message.find(dir.path().string() + ": cannot read: it is a directory"), std::string::npos)
      << message;
  message = ErrorOf([&] { ReadNumericCsv(dir.Path("missing.csv"), Columns(3)); });
  EXPECT_NE(message.find("missing.csv: cannot open the file (No such file or directory)"), std::string::npos)
      << message;
  WriteBytes(dir.Path("plain"), "x\n");
  message = ErrorOf([&] { ReadNumericCsv(dir.Path("plain") + "/q.csv", Columns(3)); });
  EXPECT_NE(message.find("cannot open the file (Not a directory)"), std::string::npos) << message;
  WriteBytes(dir.Path("empty.csv"), "\n\n");
  message = ErrorOf([&] { ReadNumericCsv(dir.Path("empty.csv"), Columns(3)); });
  EXPECT_NE(message.find("expected a header line, got an empty file"), std::string::npos) << message;
}

TEST(CsvReaderTest, ValuesBeyondTheBoundAreBadFields) {
  TempDir dir;
  const std::string path = dir.Path("t.csv");
  WriteBytes(path, "x,y,z\n1e4,-1e4,0\n0,0,-10000.001\n1e300,0,0\n");
  const std::string message = ErrorOf([&] { ReadNumericCsv(path, Xyz()); });
  EXPECT_NE(message.find("2 bad rows"), std::string::npos) << message;
  EXPECT_NE(message.find(path + ":3: column 3 (z): expected a value within +-10000, got '-10000.001'"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(path + ":4: column 1 (x)"), std::string::npos) << message;
  EXPECT_EQ(message.find(":2:"), std::string::npos) << "+-1e4 itself is allowed: " << message;
}

}  // namespace
}  // namespace deepik

// Safetensors files: bit-exact round trips, the exact byte layout, and refusal of broken files.
#include "deepik/data/safetensors.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "deepik/errors.hpp"
#include "test_util.hpp"

namespace deepik {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::WriteBytes;

std::string LittleEndian64(uint64_t value) {
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return bytes;
}

// A file with the given header text (unpadded) and data bytes.
std::string RawFile(const std::string& header, const std::string& data) {
  return LittleEndian64(header.size()) + header + data;
}

// The message of the InputError that reading `path` throws; fails the test when none is thrown.
std::string ReadError(const std::string& path) {
  try {
    ReadSafetensors(path);
  } catch (const InputError& error) {
    return error.what();
  }
  ADD_FAILURE() << "ReadSafetensors(" << path << ") did not throw";
  return "";
}

// The message of the InputError for a file with these bytes; also checks that it names the file.
std::string ErrorForBytes(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.Path("broken.safetensors");
  WriteBytes(path, bytes);
  const std::string message = ReadError(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  return message;
}

RawTensor Int64Tensor(const std::vector<int64_t>& values, std::vector<int64_t> shape) {
  RawTensor tensor;
  tensor.dtype = "I64";
  tensor.shape = std::move(shape);
  for (int64_t value : values) {
    for (int i = 0; i < 8; ++i)
      tensor.bytes.push_back(static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i)));
  }
  return tensor;
}

SafetensorsFile SampleFile() {
  SafetensorsFile file;
  file.tensors["weights"] = RawTensor::FromFloats(
      {1.5f, -0.0f, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::infinity(),
       std::numeric_limits<float>::max(), 1e-30f},
      {2, 3});
  file.tensors["doubles"] = RawTensor::FromDoubles(
      {0.1, -1e300, std::numeric_limits<double>::denorm_min(), std::nextafter(1.0, 2.0)}, {4});
  file.tensors["steps"] = Int64Tensor({0, -1, std::numeric_limits<int64_t>::max(), 42}, {2, 2});
  file.tensors["scalar"] = RawTensor::FromDoubles({3.25}, {});
  file.tensors["empty"] = RawTensor::FromDoubles({}, {0, 3});
  file.metadata["arm"] = R"({"name":"seed","quote":"\"","unicode":"\u00e9"})";
  file.metadata["note"] = "line\nbreak, tab\t, and \xc3\xa9";
  file.metadata["empty"] = "";
  return file;
}

TEST(SafetensorsTest, RoundTripIsBitExact) {
  TempDir dir;
  const std::string path = dir.Path("model.safetensors");
  const SafetensorsFile written = SampleFile();
  WriteSafetensors(path, written);
  const SafetensorsFile read = ReadSafetensors(path);

  EXPECT_EQ(read.metadata, written.metadata);
  ASSERT_EQ(read.tensors.size(), written.tensors.size());
  for (const auto& [name, tensor] : written.tensors) {
    SCOPED_TRACE(name);
    ASSERT_EQ(read.tensors.count(name), 1u);
    const RawTensor& back = read.tensors.at(name);
    EXPECT_EQ(back.dtype, tensor.dtype);
    EXPECT_EQ(back.shape, tensor.shape);
    EXPECT_EQ(back.bytes, tensor.bytes);
    EXPECT_EQ(back.NumElements(), tensor.NumElements());
  }
  // Values, not only bytes: -0.0f keeps its sign, denormals survive.
  const std::vector<float> floats = read.tensors.at("weights").ToFloats();
  ASSERT_EQ(floats.size(), 6u);
  EXPECT_EQ(floats[0], 1.5f);
  EXPECT_TRUE(std::signbit(floats[1]));
  EXPECT_EQ(floats[2], std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(floats[3], std::numeric_limits<float>::infinity());
  const std::vector<double> doubles = read.tensors.at("doubles").ToDoubles();
  EXPECT_EQ(doubles, (std::vector<double>{0.1, -1e300, std::numeric_limits<double>::denorm_min(),
                                          std::nextafter(1.0, 2.0)}));
  EXPECT_EQ(read.tensors.at("scalar").NumElements(), 1);
  EXPECT_EQ(read.tensors.at("scalar").ToDoubles(), std::vector<double>{3.25});
  EXPECT_EQ(read.tensors.at("empty").NumElements(), 0);
  EXPECT_TRUE(read.tensors.at("empty").ToDoubles().empty());

  // Writing what was read gives the same bytes again.
  const std::string again = dir.Path("again.safetensors");
  WriteSafetensors(again, read);
  EXPECT_EQ(ReadBytes(again), ReadBytes(path));
  // No temporary file is left behind.
  EXPECT_EQ(
      std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()),
      2);
}

TEST(SafetensorsTest, TinyFileHasTheExpectedBytes) {
  TempDir dir;
  const std::string path = dir.Path("tiny.safetensors");
  SafetensorsFile file;
  file.tensors["a"] = RawTensor::FromFloats({1.0f, 2.0f}, {2});
  file.metadata["k"] = "v";
  WriteSafetensors(path, file);

  // The header is compact JSON with sorted keys: 79 characters, padded with one space to 80 (a
  // multiple of 8), so the data starts at byte 8 + 80 = 88. 1.0f = 0x3f800000, 2.0f = 0x40000000,
  // stored little-endian.
  const std::string header =
      R"({"__metadata__":{"k":"v"},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
  ASSERT_EQ(header.size(), 79u);
  std::string expected("\x50\0\0\0\0\0\0\0", 8);
  expected += header + " ";
  expected += std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  const std::string actual = ReadBytes(path);
  ASSERT_EQ(actual.size(), 96u);
  EXPECT_EQ(actual, expected);
}

TEST(SafetensorsTest, DataIsEightByteAligned) {
  TempDir dir;
  for (const std::string name : {"a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"}) {
    SafetensorsFile file;
    file.tensors[name] = RawTensor::FromDoubles({1.0, 2.0}, {2});
    const std::string path = dir.Path(name + ".safetensors");
    WriteSafetensors(path, file);
    const std::string bytes = ReadBytes(path);
    uint64_t header_size = 0;
    for (int i = 0; i < 8; ++i)
      header_size |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
    EXPECT_EQ(header_size % 8, 0u) << name;
    EXPECT_EQ(bytes.size(), 8 + header_size + 16) << name;
    EXPECT_EQ(ReadSafetensors(path).tensors.at(name).ToDoubles(), (std::vector<double>{1.0, 2.0}));
  }
}

TEST(SafetensorsTest, RefusesMissingAndShortFiles) {
  TempDir dir;
  const std::string missing = dir.Path("missing.safetensors");
  const std::string message = ReadError(missing);
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;

  EXPECT_NE(ErrorForBytes(dir, "").find("expected at least 8 bytes, got 0"), std::string::npos);
  EXPECT_NE(ErrorForBytes(dir, "1234567").find("expected at least 8 bytes, got 7"), std::string::npos);
}

TEST(SafetensorsTest, RefusesTruncatedFiles) {
  TempDir dir;
  const std::string path = dir.Path("whole.safetensors");
  WriteSafetensors(path, SampleFile());
  const std::string whole = ReadBytes(path);
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= static_cast<uint64_t>(static_cast<uint8_t>(whole[i])) << (8 * i);
  const size_t data_begin = 8 + header_size;
  ASSERT_GT(whole.size(), data_begin + 16);

  for (size_t cut : {size_t{3}, size_t{8}, size_t{9}, data_begin / 2, data_begin - 1}) {
    const std::string message = ErrorForBytes(dir, whole.substr(0, cut));
    EXPECT_TRUE(message.find("truncated") != std::string::npos ||
                message.find("expected at least 8 bytes") != std::string::npos)
        << "cut at " << cut << ": " << message;
  }
  // Cut inside the data section: the header reads, but a tensor lies beyond the end.
  for (size_t cut : {data_begin, data_begin + 1, data_begin + 8, whole.size() - 8, whole.size() - 1}) {
    const std::string message = ErrorForBytes(dir, whole.substr(0, cut));
    EXPECT_NE(message.find("truncated or corrupt"), std::string::npos) << "cut at " << cut << ": " << message;
    EXPECT_NE(message.find("lie beyond the data section of " + std::to_string(cut - data_begin) + " bytes"),
              std::string::npos)
        << message;
  }
}

TEST(SafetensorsTest, RefusesGarbageAndHugeHeaders) {
  TempDir dir;
  // Text read as a length prefix is an absurd size: refused before allocating anything.
  std::string message = ErrorForBytes(dir, "this is not a safetensors file, only some text\n");
  EXPECT_NE(message.find("not a safetensors file: header size"), std::string::npos) << message;
  EXPECT_NE(message.find("exceeds the limit of 100000000 bytes"), std::string::npos) << message;

  message = ErrorForBytes(dir, LittleEndian64(uint64_t{1} << 40) + "{}");
  EXPECT_NE(message.find("header size 1099511627776 exceeds the limit"), std::string::npos) << message;
  message = ErrorForBytes(dir, LittleEndian64(100000001) + "{}");
  EXPECT_NE(message.find("header size 100000001 exceeds the limit"), std::string::npos) << message;
  // Within the limit but beyond the end of the file.
  message = ErrorForBytes(dir, LittleEndian64(1000) + "{}      ");
  EXPECT_NE(message.find("truncated: the header needs 1000 bytes, the file holds only 8"), std::string::npos)
      << message;

  message = ErrorForBytes(dir, RawFile("hello, world", ""));
  EXPECT_NE(message.find("the header is not valid JSON"), std::string::npos) << message;
  message = ErrorForBytes(dir, RawFile("[1, 2, 3]", ""));
  EXPECT_NE(message.find("expected a JSON object as header, got array"), std::string::npos) << message;
  message = ErrorForBytes(dir, RawFile(R"({"__metadata__":{"k":1}})", ""));
  EXPECT_NE(message.find("__metadata__.k: expected a string, got number"), std::string::npos) << message;
  message = ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F32","shape":[1]}})", "abcd"));
  EXPECT_NE(message.find("tensor 'a': expected an object with dtype, shape and data_offsets"),
            std::string::npos)
      << message;
  message = ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd"));
  EXPECT_NE(message.find("tensor 'a': shape: expected a non-negative integer, got -1"), std::string::npos)
      << message;
}

TEST(SafetensorsTest, RefusesUnknownDtype) {
  TempDir dir;
  const std::string message =
      ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", "x"));
  EXPECT_NE(message.find("tensor 'a': unknown dtype 'Q7'"), std::string::npos) << message;
}

TEST(SafetensorsTest, RefusesBadOffsets) {
  TempDir dir;
  const std::string eight(8, '\0');
  // Beyond the data section.
  std::string message =
      ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}})", eight));
  EXPECT_NE(message.find("tensor 'a': data_offsets [16, 24] lie beyond the data section of 8 bytes"),
            std::string::npos)
      << message;
  message = ErrorForBytes(
      dir,
      RawFile(
          R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[18446744073709551608,18446744073709551615]}})",
          eight));
  EXPECT_NE(message.find("hold 7 bytes, expected 8 for F64 [1]"), std::string::npos) << message;
  // Not matching dtype * shape.
  message = ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", eight));
  EXPECT_NE(message.find("tensor 'a': data_offsets [0, 8] hold 8 bytes, expected 16 for F64 [2]"),
            std::string::npos)
      << message;
  message = ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[8,0]}})", eight));
  EXPECT_NE(message.find("data_offsets [8, 0]: expected begin <= end"), std::string::npos) << message;
  message = ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0]}})", eight));
  EXPECT_NE(message.find("data_offsets: expected [begin, end], got [0]"), std::string::npos) << message;
  // A gap, an overlap, trailing bytes.
  message = ErrorForBytes(
      dir, RawFile(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}})", eight + eight));
  EXPECT_NE(message.find("tensor 'a': data_offsets start at 8, expected 0"), std::string::npos) << message;
  message = ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
                                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                       eight));
  EXPECT_NE(message.find("data_offsets start at 4, expected 8"), std::string::npos) << message;
  message =
      ErrorForBytes(dir, RawFile(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", eight + "x"));
  EXPECT_NE(message.find("the data section holds 9 bytes, the header describes 8"), std::string::npos)
      << message;
}

TEST(SafetensorsTest, ConversionsCheckTheDtype) {
  const RawTensor doubles = RawTensor::FromDoubles({1.0}, {1});
  EXPECT_THROW(doubles.ToFloats(), InputError);
  const RawTensor floats = RawTensor::FromFloats({1.0f, 2.0f}, {2});
  EXPECT_THROW(floats.ToDoubles(), InputError);
  RawTensor short_tensor = floats;
  short_tensor.bytes.pop_back();
  try {
    short_tensor.ToFloats();
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("needs 8 bytes, got 7"), std::string::npos) << error.what();
  }
  TempDir dir;
  SafetensorsFile file;
  file.tensors["bad"] = short_tensor;
  EXPECT_THROW(WriteSafetensors(dir.Path("bad.safetensors"), file), InputError);
  EXPECT_FALSE(std::filesystem::exists(dir.Path("bad.safetensors")));
}

}  // namespace
}  // namespace deepik

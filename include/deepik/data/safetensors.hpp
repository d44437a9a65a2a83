// Reading and writing safetensors files: an 8-byte little-endian header length, a JSON header,
// then raw little-endian tensor bytes. Readable from Python (safetensors), JS and any runtime.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace deepik {

/// One tensor: a dtype ("F32", "F64" or "I64"), a shape and its raw little-endian bytes.
struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  static RawTensor FromFloats(const std::vector<float>& values, std::vector<int64_t> shape);
  static RawTensor FromDoubles(const std::vector<double>& values, std::vector<int64_t> shape);
  /// @throws InputError when the dtype is not F32 (or the byte count does not match).
  std::vector<float> ToFloats() const;
  /// @throws InputError when the dtype is not F64.
  std::vector<double> ToDoubles() const;
  int64_t NumElements() const;
};

/// A safetensors file's content: named tensors and string metadata (`__metadata__`).
struct SafetensorsFile {
  std::map<std::string, RawTensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Writes through a temporary file renamed into place, so the file appears whole or not at all.
/// @throws InputError when the file cannot be written.
void WriteSafetensors(const std::string& path, const SafetensorsFile& file);

/// @throws InputError naming the file for a missing file, a truncated file, a header that is not
///         safetensors JSON, an unknown dtype or offsets that do not fit the data.
SafetensorsFile ReadSafetensors(const std::string& path);

}  // namespace deepik

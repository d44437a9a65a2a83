#include "deepik/data/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "deepik/data/csv.hpp"
#include "deepik/errors.hpp"

namespace deepik {
namespace {

using Json = nlohmann::json;

// Larger headers are refused before anything is allocated: a garbage or hostile length prefix
// must not make us reserve gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100u * 1000u * 1000u;

// Bytes per element of the dtypes of the safetensors format. Files written by other tools may
// use any of them; RawTensor converts only F32 and F64 to numbers.
int64_t DtypeSize(const std::string& dtype) {
  static const std::pair<const char*, int64_t> kSizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"I64", 8},     {"U64", 8}, {"F64", 8}};
  for (const auto& [name, size] : kSizes) {
    if (dtype == name) return size;
  }
  return 0;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// Element count of a shape, or -1 when it overflows int64 (no real file can hold that many).
int64_t CountElements(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) return -1;
    count *= dim;
  }
  return count;
}

// The byte order of the file is little-endian whatever the host's.
template <typename Bits>
void AppendLittleEndian(Bits bits, std::vector<uint8_t>* out) {
  for (size_t i = 0; i < sizeof(Bits); ++i) out->push_back(static_cast<uint8_t>(bits >> (8 * i)));
}

template <typename Bits>
Bits ReadLittleEndian(const uint8_t* in) {
  Bits bits = 0;
  for (size_t i = 0; i < sizeof(Bits); ++i) bits |= static_cast<Bits>(in[i]) << (8 * i);
  return bits;
}

template <typename Value, typename Bits>
std::vector<Value> DecodeValues(const RawTensor& tensor, const char* dtype) {
  if (tensor.dtype != dtype) {
    throw InputError(std::string("expected a ") + dtype + " tensor, got " + tensor.dtype);
  }
  const int64_t count = tensor.NumElements();
  if (count < 0 || tensor.bytes.size() != static_cast<uint64_t>(count) * sizeof(Bits)) {
    throw InputError(std::string("a ") + dtype + " tensor of shape " + ShapeText(tensor.shape) + " needs " +
                     std::to_string(count * static_cast<int64_t>(sizeof(Bits))) + " bytes, got " +
                     std::to_string(tensor.bytes.size()));
  }
  std::vector<Value> values(static_cast<size_t>(count));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // The file's byte order is the machine's: the bytes are the values (model loading at start-up).
  if (!values.empty()) std::memcpy(values.data(), tensor.bytes.data(), tensor.bytes.size());
  return values;
#endif
  for (size_t i = 0; i < values.size(); ++i) {
    const Bits bits = ReadLittleEndian<Bits>(tensor.bytes.data() + i * sizeof(Bits));
    std::memcpy(&values[i], &bits, sizeof(Bits));
  }
  return values;
}

template <typename Bits, typename Value>
RawTensor EncodeValues(const std::vector<Value>& values, std::vector<int64_t> shape, const char* dtype) {
  RawTensor tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.bytes.reserve(values.size() * sizeof(Bits));
  for (Value value : values) {
    Bits bits;
    std::memcpy(&bits, &value, sizeof(Bits));
    AppendLittleEndian(bits, &tensor.bytes);
  }
  return tensor;
}

// A non-negative integer field of the header, or an InputError.
uint64_t HeaderUnsigned(const Json& value, const std::string& path, const std::string& where) {
  if (!value.is_number_unsigned()) {
    throw InputError(path + ": safetensors header: " + where + ": expected a non-negative integer, got " +
                     value.dump());
  }
  return value.get<uint64_t>();
}

struct TensorEntry {
  std::string name;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// The size of the open file (bytes), which must hold at least the 8-byte header size prefix.
uint64_t FileSize(std::ifstream& in, const std::string& path) {
  in.seekg(0, std::ios::end);
  const std::streamoff file_size_signed = in.tellg();
  if (file_size_signed < 0) throw InputError(path + ": cannot read the file");
  const uint64_t file_size = static_cast<uint64_t>(file_size_signed);
  in.seekg(0, std::ios::beg);
  if (file_size < 8) {
    throw InputError(path + ": not a safetensors file: expected at least 8 bytes, got " +
                     std::to_string(file_size));
  }
  return file_size;
}

// The header (a JSON object) after the size prefix; `header_size` receives its length in bytes.
Json ReadHeader(std::ifstream& in, const std::string& path, uint64_t file_size, uint64_t* header_size_out) {
  uint8_t prefix[8];
  in.read(reinterpret_cast<char*>(prefix), 8);
  if (!in) throw InputError(path + ": cannot read the file");
  const uint64_t header_size = ReadLittleEndian<uint64_t>(prefix);
  if (header_size > kMaxHeaderBytes) {
    throw InputError(path + ": not a safetensors file: header size " + std::to_string(header_size) +
                     " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_size > file_size - 8) {
    throw InputError(path + ": truncated: the header needs " + std::to_string(header_size) +
                     " bytes, the file holds only " + std::to_string(file_size - 8) +
                     " after the size prefix");
  }
  std::string header_text(static_cast<size_t>(header_size), '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_size));
  if (!in) throw InputError(path + ": cannot read the header");

  Json header = Json::parse(header_text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded())
    throw InputError(path + ": not a safetensors file: the header is not valid JSON");
  if (!header.is_object()) {
    throw InputError(path + ": not a safetensors file: expected a JSON object as header, got " +
                     std::string(header.type_name()));
  }
  *header_size_out = header_size;
  return header;
}

// The header's __metadata__: an object of strings.
void ReadMetadata(const Json& info, const std::string& path, std::map<std::string, std::string>* metadata) {
  if (!info.is_object()) {
    throw InputError(path + ": safetensors header: __metadata__: expected an object, got " +
                     std::string(info.type_name()));
  }
  for (const auto& [key, value] : info.items()) {
    if (!value.is_string()) {
      throw InputError(path + ": safetensors header: __metadata__." + key + ": expected a string, got " +
                       std::string(value.type_name()));
    }
    (*metadata)[key] = value.get<std::string>();
  }
}

// One tensor's header entry: its dtype and shape into `tensor`, its byte range (checked against
// the dtype, the shape and the data section) returned.
TensorEntry ReadTensorEntry(const std::string& name, const Json& info, const std::string& path,
                            uint64_t data_size, RawTensor* tensor) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
      !info.contains("data_offsets")) {
    throw InputError(path + ": safetensors header: " + where + ": expected an object with dtype, shape and " +
                     "data_offsets, got " + info.dump());
  }
  if (!info["dtype"].is_string()) {
    throw InputError(path + ": safetensors header: " + where + ": dtype: expected a string, got " +
                     info["dtype"].dump());
  }
  tensor->dtype = info["dtype"].get<std::string>();
  const int64_t dtype_size = DtypeSize(tensor->dtype);
  if (dtype_size == 0) {
    throw InputError(path + ": safetensors header: " + where + ": unknown dtype '" + tensor->dtype + "'");
  }
  if (!info["shape"].is_array()) {
    throw InputError(path + ": safetensors header: " + where + ": shape: expected an array, got " +
                     info["shape"].dump());
  }
  for (const Json& dim : info["shape"]) {
    const uint64_t value = HeaderUnsigned(dim, path, where + ": shape");
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw InputError(path + ": safetensors header: " + where + ": shape: dimension " +
                       std::to_string(value) + " is too large");
    }
    tensor->shape.push_back(static_cast<int64_t>(value));
  }
  const Json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    throw InputError(path + ": safetensors header: " + where + ": data_offsets: expected [begin, end], got " +
                     offsets.dump());
  }
  TensorEntry entry{name, HeaderUnsigned(offsets[0], path, where + ": data_offsets"),
                    HeaderUnsigned(offsets[1], path, where + ": data_offsets")};
  const std::string offsets_text = "[" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
  if (entry.begin > entry.end) {
    throw InputError(path + ": safetensors header: " + where + ": data_offsets " + offsets_text +
                     ": expected begin <= end");
  }
  const int64_t count = CountElements(tensor->shape);
  if (count < 0 || static_cast<uint64_t>(count) > std::numeric_limits<uint64_t>::max() / 8 ||
      entry.end - entry.begin != static_cast<uint64_t>(count) * static_cast<uint64_t>(dtype_size)) {
    throw InputError(path + ": safetensors header: " + where + ": data_offsets " + offsets_text + " hold " +
                     std::to_string(entry.end - entry.begin) + " bytes, expected " +
                     (count < 0 ? std::string("fewer") : std::to_string(count * dtype_size)) + " for " +
                     tensor->dtype + " " + ShapeText(tensor->shape));
  }
  if (entry.end > data_size) {
    throw InputError(path + ": truncated or corrupt: " + where + ": data_offsets " + offsets_text +
                     " lie beyond the data section of " + std::to_string(data_size) + " bytes");
  }
  return entry;
}

// The tensors must tile the data section exactly, without gaps, overlaps or trailing bytes
// (`entries` are sorted by their place in it).
void CheckTiling(std::vector<TensorEntry>* entries, uint64_t data_size, const std::string& path) {
  std::sort(entries->begin(), entries->end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  for (const TensorEntry& entry : *entries) {
    if (entry.begin != expected_begin) {
      throw InputError(path + ": safetensors header: tensor '" + entry.name + "': data_offsets start at " +
                       std::to_string(entry.begin) + ", expected " + std::to_string(expected_begin) +
                       " (tensors must cover the data section without gaps or overlaps)");
    }
    expected_begin = entry.end;
  }
  if (expected_begin != data_size) {
    throw InputError(path + ": the data section holds " + std::to_string(data_size) +
                     " bytes, the header describes " + std::to_string(expected_begin));
  }
}

}  // namespace

RawTensor RawTensor::FromFloats(const std::vector<float>& values, std::vector<int64_t> shape) {
  static_assert(sizeof(float) == 4, "float must be IEEE binary32");
  return EncodeValues<uint32_t>(values, std::move(shape), "F32");
}

RawTensor RawTensor::FromDoubles(const std::vector<double>& values, std::vector<int64_t> shape) {
  static_assert(sizeof(double) == 8, "double must be IEEE binary64");
  return EncodeValues<uint64_t>(values, std::move(shape), "F64");
}

std::vector<float> RawTensor::ToFloats() const { return DecodeValues<float, uint32_t>(*this, "F32"); }

std::vector<double> RawTensor::ToDoubles() const { return DecodeValues<double, uint64_t>(*this, "F64"); }

int64_t RawTensor::NumElements() const { return CountElements(shape); }

void WriteSafetensors(const std::string& path, const SafetensorsFile& file) {
  Json header = Json::object();
  if (!file.metadata.empty()) {
    Json metadata = Json::object();
    for (const auto& [key, value] : file.metadata) metadata[key] = value;
    header["__metadata__"] = std::move(metadata);
  }
  // std::map iterates by name, so the data section holds the tensors sorted by name.
  uint64_t offset = 0;
  for (const auto& [name, tensor] : file.tensors) {
    if (name == "__metadata__") throw InputError(path + ": '__metadata__' is reserved, not a tensor name");
    const int64_t dtype_size = DtypeSize(tensor.dtype);
    if (dtype_size == 0)
      throw InputError(path + ": tensor '" + name + "': unknown dtype '" + tensor.dtype + "'");
    const int64_t count = CountElements(tensor.shape);
    if (count < 0 ||
        tensor.bytes.size() != static_cast<uint64_t>(count) * static_cast<uint64_t>(dtype_size)) {
      throw InputError(path + ": tensor '" + name + "': a " + tensor.dtype + " tensor of shape " +
                       ShapeText(tensor.shape) + " needs " + std::to_string(count * dtype_size) +
                       " bytes, got " + std::to_string(tensor.bytes.size()));
    }
    const uint64_t end = offset + tensor.bytes.size();
    header[name] = {{"dtype", tensor.dtype}, {"shape", tensor.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string header_text = header.dump();
  // Pad with spaces so that the data section starts 8-byte aligned (8 + a multiple of 8).
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::vector<uint8_t> prefix;
  AppendLittleEndian(static_cast<uint64_t>(header_text.size()), &prefix);
  AtomicFileWriter writer(path);
  std::ostream& out = writer.stream();
  out.write(reinterpret_cast<const char*>(prefix.data()), static_cast<std::streamsize>(prefix.size()));
  out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
  for (const auto& [name, tensor] : file.tensors) {
    out.write(reinterpret_cast<const char*>(tensor.bytes.data()),
              static_cast<std::streamsize>(tensor.bytes.size()));
  }
  writer.Commit();
}

SafetensorsFile ReadSafetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the file");
  const uint64_t file_size = FileSize(in, path);
  uint64_t header_size = 0;
  const Json header = ReadHeader(in, path, file_size, &header_size);
  const uint64_t data_size = file_size - 8 - header_size;
  SafetensorsFile file;
  std::vector<TensorEntry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      ReadMetadata(info, path, &file.metadata);
      continue;
    }
    RawTensor tensor;
    entries.push_back(ReadTensorEntry(name, info, path, data_size, &tensor));
    file.tensors.emplace(name, std::move(tensor));
  }
  CheckTiling(&entries, data_size, path);
  for (const TensorEntry& entry : entries) {
    RawTensor& tensor = file.tensors.at(entry.name);
    tensor.bytes.resize(static_cast<size_t>(entry.end - entry.begin));
    in.seekg(static_cast<std::streamoff>(8 + header_size + entry.begin), std::ios::beg);
    in.read(reinterpret_cast<char*>(tensor.bytes.data()), static_cast<std::streamsize>(tensor.bytes.size()));
    if (!in) throw InputError(path + ": cannot read tensor '" + entry.name + "'");
  }
  return file;
}

}  // namespace deepik

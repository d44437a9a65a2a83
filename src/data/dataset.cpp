#include "deepik/data/dataset.hpp"

#include <Eigen/Eigenvalues>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <utility>

#include "deepik/data/csv.hpp"
#include "deepik/data/random.hpp"
#include "deepik/data/safetensors.hpp"
#include "deepik/errors.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"

namespace deepik {
namespace {

using Json = nlohmann::json;
using Targets = Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>;
using Labels = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr double kPi = 3.14159265358979323846;
constexpr double kTwoPi = 2.0 * kPi;
constexpr int64_t kMaxRows = 50'000'000;
constexpr const char* kFormat = "deepik-dataset";
constexpr const char* kVersion = "1";

// Only std::mt19937_64 itself is specified bit for bit by the standard; the std distributions and
// std::shuffle are not. Everything below draws from the raw 64-bit stream with explicit formulas,
// so a seed gives the same samples with every standard library.

// Fisher-Yates; the modulo bias of a 64-bit draw over at most 5e7 items is below 1e-11.
std::vector<int64_t> ShuffledIndices(int64_t count, std::mt19937_64* rng) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t i = count - 1; i > 0; --i) {
    const uint64_t j = (*rng)() % static_cast<uint64_t>(i + 1);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

// The values a grid visits along one joint: lower + k * step for k = 0, ..., count - 1.
struct GridAxis {
  double lower = 0.0;
  double step = 0.0;
  int64_t count = 1;
};

// Values lower, lower + step, ... up to upper inclusive (1e-9 steps of slack for rounding).
// A joint that turns a full circle or more (continuous, or a range >= 2 pi) would visit the same
// configuration twice, e.g. both -pi and +pi: its grid covers one turn [lower, lower + 2 pi) and
// drops the duplicate end (for a [-2 pi, 2 pi] joint, also the values of the second turn).
GridAxis MakeGridAxis(const Joint& joint, const SamplerOptions& options) {
  GridAxis axis;
  axis.lower = joint.lower;
  axis.step = joint.type == JointType::kRevolute ? options.grid_step_deg * kPi / 180.0 : options.grid_step_m;
  const double range = joint.upper - joint.lower;
  const bool full_turn = joint.type == JointType::kRevolute && (joint.continuous || range >= kTwoPi - 1e-9);
  const double steps =
      full_turn ? std::ceil(kTwoPi / axis.step - 1e-9) : std::floor(range / axis.step + 1e-9) + 1;
  axis.count = steps > static_cast<double>(kMaxRows) ? kMaxRows + 1
                                                     : std::max<int64_t>(1, static_cast<int64_t>(steps));
  return axis;
}

int64_t GridRows(const std::vector<GridAxis>& axes) {
  int64_t rows = 1;
  for (const GridAxis& axis : axes) {
    if (axis.count > kMaxRows / rows) return kMaxRows + 1;
    rows *= axis.count;
  }
  return rows;
}

void SampleGrid(const Chain& chain, const SamplerOptions& options, Labels* labels) {
  std::vector<GridAxis> axes;
  for (const Joint& joint : chain.joints()) axes.push_back(MakeGridAxis(joint, options));
  const int64_t rows = GridRows(axes);
  if (rows > kMaxRows) {
    throw std::invalid_argument("grid: expected at most " + std::to_string(kMaxRows) +
                                " rows, got more; increase grid_step_deg or grid_step_m");
  }
  const int n = chain.num_joints();
  labels->resize(rows, n);
  std::vector<int64_t> digit(static_cast<size_t>(n), 0);  // an odometer, the last joint fastest
  for (int64_t row = 0; row < rows; ++row) {
    for (int i = 0; i < n; ++i) {
      const GridAxis& axis = axes[static_cast<size_t>(i)];
      // Clamped: lower + k * step may round a hair past upper.
      const double value = axis.lower + static_cast<double>(digit[static_cast<size_t>(i)]) * axis.step;
      (*labels)(row, i) = std::min(value, chain.joint(i).upper);
    }
    for (int i = n - 1; i >= 0; --i) {
      if (++digit[static_cast<size_t>(i)] < axes[static_cast<size_t>(i)].count) break;
      digit[static_cast<size_t>(i)] = 0;
    }
  }
}

void SampleJoints(const Chain& chain, int64_t count, std::mt19937_64* rng, Labels* labels) {
  labels->resize(count, chain.num_joints());
  Eigen::VectorXd q(chain.num_joints());
  for (int64_t row = 0; row < count; ++row) {
    UniformConfiguration(chain, rng, q);
    labels->row(row) = q.transpose();
  }
}

// Uniform in the span within `radius` of its centre: in the unit ball of its dimension by
// rejection (a 3-D span draws exactly as the first datasets did), then placed along its axes.
void SampleSpan(const ReachableSpan& span, double radius, int64_t count, std::mt19937_64* rng,
                Targets* targets) {
  targets->resize(count, 3);
  for (int64_t row = 0; row < count; ++row) {
    Eigen::Vector3d p_B;
    if (span.dimension == 3) {
      p_B = UniformInBall(radius, rng);
    } else {
      Eigen::Vector3d unit = Eigen::Vector3d::Zero();
      do {
        for (int k = 0; k < span.dimension; ++k) unit[k] = 2.0 * UniformUnit(rng) - 1.0;
      } while (unit.squaredNorm() > 1.0);
      p_B = span.center_B + radius * (span.axes_B * unit);
    }
    targets->row(row) = p_B.transpose();
  }
}

void TakeRows(const Targets& targets, const Labels& labels, const std::vector<int64_t>& order, int64_t begin,
              int64_t end, DatasetSplit* split) {
  split->targets.resize(end - begin, 3);
  split->labels.resize(labels.rows() > 0 ? end - begin : 0, labels.cols());  // 0 x n without labels
  for (int64_t r = begin; r < end; ++r) {
    const int64_t source = order[static_cast<size_t>(r)];
    split->targets.row(r - begin) = targets.row(source);
    if (labels.rows() > 0) split->labels.row(r - begin) = labels.row(source);
  }
}

bool HasLabels(SamplerKind kind) { return kind != SamplerKind::kWorkspace; }

Json OptionsToJson(const SamplerOptions& options) {
  return {{"kind", ToString(options.kind)},
          {"count", options.count},
          {"grid_step_deg", options.grid_step_deg},
          {"grid_step_m", options.grid_step_m},
          {"margin", options.margin},
          {"seed", options.seed},
          {"train_fraction", options.train_fraction},
          {"validation_fraction", options.validation_fraction}};
}

// Reads the options back; `context` prefixes every message (the file).
SamplerOptions OptionsFromJson(const std::string& text, const std::string& context) {
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) throw InputError(context + ": metadata 'options': expected a JSON object");
  auto field = [&](const char* key) -> const Json& {
    const auto it = json.find(key);
    if (it == json.end()) throw InputError(context + ": metadata 'options': field '" + key + "' is missing");
    return *it;
  };
  auto number = [&](const char* key) {
    const Json& value = field(key);
    if (!value.is_number()) {
      throw InputError(context + ": metadata 'options': " + key + ": expected a number, got " + value.dump());
    }
    return value.get<double>();
  };
  auto integer = [&](const char* key) -> const Json& {
    const Json& value = field(key);
    if (!value.is_number_integer()) {
      throw InputError(context + ": metadata 'options': " + key + ": expected an integer, got " +
                       value.dump());
    }
    return value;
  };
  SamplerOptions options;
  const Json& kind = field("kind");
  try {
    options.kind = SamplerKindFromString(kind.is_string() ? kind.get<std::string>() : kind.dump());
  } catch (const std::invalid_argument& error) {
    throw InputError(context + ": metadata 'options': kind: " + error.what());
  }
  options.count = integer("count").get<int64_t>();
  options.grid_step_deg = number("grid_step_deg");
  options.grid_step_m = number("grid_step_m");
  options.margin = number("margin");
  const Json& seed = integer("seed");
  if (!seed.is_number_unsigned()) {
    throw InputError(context + ": metadata 'options': seed: expected a non-negative integer, got " +
                     seed.dump());
  }
  options.seed = seed.get<uint64_t>();
  options.train_fraction = number("train_fraction");
  options.validation_fraction = number("validation_fraction");
  std::string error;
  if (!options.IsValid(&error)) throw InputError(context + ": metadata 'options': " + error);
  return options;
}

const std::string& MetadataField(const SafetensorsFile& file, const std::string& key,
                                 const std::string& path) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end())
    throw InputError(path + ": not a deepik dataset: metadata '" + key + "' is missing");
  return it->second;
}

// One [rows x columns] F64 tensor as a row-major matrix; `columns` is checked.
template <typename Matrix>
Matrix MatrixFromTensor(const SafetensorsFile& file, const std::string& name, int64_t columns,
                        const std::string& path) {
  const auto it = file.tensors.find(name);
  if (it == file.tensors.end()) throw InputError(path + ": tensor '" + name + "' is missing");
  const RawTensor& tensor = it->second;
  if (tensor.dtype != "F64")
    throw InputError(path + ": tensor '" + name + "': expected F64, got " + tensor.dtype);
  if (tensor.shape.size() != 2 || tensor.shape[1] != columns) {
    std::string shape;
    for (int64_t dim : tensor.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(dim);
    throw InputError(path + ": tensor '" + name + "': expected shape [rows, " + std::to_string(columns) +
                     "], got [" + shape + "]");
  }
  std::vector<double> values;
  try {
    values = tensor.ToDoubles();
  } catch (const InputError& error) {
    throw InputError(path + ": tensor '" + name + "': " + error.what());
  }
  Matrix matrix(tensor.shape[0], columns);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw InputError(path + ": tensor '" + name + "': row " +
                       std::to_string(i / static_cast<size_t>(columns)) +
                       " holds a value that is not finite");
    }
    matrix.data()[i] = values[i];
  }
  return matrix;
}

template <typename Matrix>
RawTensor TensorFromMatrix(const Matrix& matrix) {
  std::vector<double> values(matrix.data(), matrix.data() + matrix.size());
  return RawTensor::FromDoubles(values,
                                {static_cast<int64_t>(matrix.rows()), static_cast<int64_t>(matrix.cols())});
}

}  // namespace

ReachableSpan FindReachableSpan(const Chain& chain) {
  std::mt19937_64 rng(20241207);  // its own stream: the dataset's draws do not depend on it
  constexpr int kSamples = 256;
  Eigen::Matrix<double, 3, kSamples> p_B;
  Eigen::VectorXd q(chain.num_joints());
  for (int i = 0; i < kSamples; ++i) {
    UniformConfiguration(chain, &rng, q);
    p_B.col(i) = TipPosition(chain, q);
  }
  const Eigen::Vector3d mean_B = p_B.rowwise().mean();
  const Eigen::Matrix3d scatter = (p_B.colwise() - mean_B) * (p_B.colwise() - mean_B).transpose() / kSamples;
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> principal(scatter);  // ascending eigenvalues
  ReachableSpan span;
  span.dimension = 0;
  const double spread_floor = 1e-9 * std::max(chain.reach(), 1e-12);
  for (int k = 2; k >= 0; --k) {
    if (std::sqrt(std::max(0.0, principal.eigenvalues()[k])) > spread_floor) {
      span.axes_B.col(span.dimension++) = principal.eigenvectors().col(k);
    }
  }
  if (span.dimension == 3) {
    span.axes_B.setIdentity();
    span.center_B.setZero();
    return span;
  }
  // The span's point closest to the base origin: the mean, less its part along the span's axes.
  const Eigen::MatrixXd axes = span.axes_B.leftCols(span.dimension);
  span.center_B = mean_B - axes * (axes.transpose() * mean_B);
  return span;
}

std::string OutOfReachWarning(int64_t out_of_reach, int64_t count, const std::string& prefix) {
  if (count <= 0 || 2 * out_of_reach <= count) return "";
  const int percent = static_cast<int>(std::lround(100.0 * static_cast<double>(out_of_reach) / count));
  return prefix + "WARNING: " + std::to_string(out_of_reach) + " of the " + std::to_string(count) +
         " validation targets (" + std::to_string(percent) + " %) are out of the arm's reach.\n" + prefix +
         "WARNING: the data does not fit this arm: a network trained on it learns little. Use the "
         "workspace\n" +
         prefix + "WARNING: sampler with a small --margin, or --sampler joints, or a dataset of this arm.\n";
}

const char* ToString(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::kGrid:
      return "grid";
    case SamplerKind::kJoints:
      return "joints";
    case SamplerKind::kWorkspace:
      return "workspace";
  }
  return "unknown";
}

SamplerKind SamplerKindFromString(const std::string& name) {
  for (SamplerKind kind : {SamplerKind::kGrid, SamplerKind::kJoints, SamplerKind::kWorkspace}) {
    if (name == ToString(kind)) return kind;
  }
  throw std::invalid_argument("unknown sampler '" + name + "': expected one of grid, joints, workspace");
}

bool SamplerOptions::IsValid(std::string* error) const {
  auto fail = [error](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  // Every field is checked whatever the kind, so that no bad value is silently ignored.
  if (count <= 0 || count > kMaxRows) {
    return fail("count: expected a value in [1, " + std::to_string(kMaxRows) + "], got " +
                std::to_string(count));
  }
  if (!(grid_step_deg > 0) || !std::isfinite(grid_step_deg)) {
    return fail("grid_step_deg: expected a finite value > 0, got " + FormatDouble(grid_step_deg));
  }
  if (!(grid_step_m > 0) || !std::isfinite(grid_step_m)) {
    return fail("grid_step_m: expected a finite value > 0, got " + FormatDouble(grid_step_m));
  }
  if (!(margin >= 0) || !std::isfinite(margin)) {
    return fail("margin: expected a finite value >= 0, got " + FormatDouble(margin));
  }
  if (!(train_fraction > 0 && train_fraction <= 1)) {
    return fail("train_fraction: expected a value in (0, 1], got " + FormatDouble(train_fraction));
  }
  if (!(validation_fraction >= 0 && validation_fraction <= 1)) {
    return fail("validation_fraction: expected a value in [0, 1], got " + FormatDouble(validation_fraction));
  }
  if (train_fraction + validation_fraction > 1 + 1e-12) {
    return fail("train_fraction + validation_fraction: expected at most 1, got " +
                FormatDouble(train_fraction + validation_fraction));
  }
  return true;
}

Dataset MakeDataset(const Chain& chain, const SamplerOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw std::invalid_argument("sampler options: " + error);
  std::mt19937_64 rng(options.seed);
  Targets targets;
  Labels labels;
  Dataset dataset;
  dataset.arm_json = ChainToJson(chain);
  dataset.options = options;
  switch (options.kind) {
    case SamplerKind::kGrid:
      SampleGrid(chain, options, &labels);
      break;
    case SamplerKind::kJoints:
      SampleJoints(chain, options.count, &rng, &labels);
      break;
    case SamplerKind::kWorkspace: {
      labels.resize(0, chain.num_joints());
      SampleSpan(FindReachableSpan(chain), (1.0 + options.margin) * chain.reach(), options.count, &rng,
                 &targets);
      int64_t beyond = 0;
      for (int64_t r = 0; r < targets.rows(); ++r) beyond += targets.row(r).norm() > chain.reach() ? 1 : 0;
      dataset.share_beyond_reach = static_cast<double>(beyond) / static_cast<double>(targets.rows());
      break;
    }
  }
  if (HasLabels(options.kind)) {
    targets.resize(labels.rows(), 3);
    for (int64_t r = 0; r < labels.rows(); ++r) {
      targets.row(r) = TipPosition(chain, labels.row(r).transpose()).transpose();
    }
  }

  const int64_t rows = targets.rows();
  const std::vector<int64_t> order = ShuffledIndices(rows, &rng);
  // Rounded down; the 1e-9 keeps 0.29 * 100 = 28.999999999999996 from losing a row.
  const int64_t n_train =
      std::min<int64_t>(rows, static_cast<int64_t>(std::floor(rows * options.train_fraction + 1e-9)));
  const int64_t n_validation = std::min<int64_t>(
      rows - n_train, static_cast<int64_t>(std::floor(rows * options.validation_fraction + 1e-9)));
  TakeRows(targets, labels, order, 0, n_train, &dataset.train);
  TakeRows(targets, labels, order, n_train, n_train + n_validation, &dataset.validation);
  TakeRows(targets, labels, order, n_train + n_validation, rows, &dataset.test);
  return dataset;
}

void SaveDataset(const std::string& path, const Dataset& dataset) {
  SafetensorsFile file;
  const bool labels = HasLabels(dataset.options.kind);
  const std::pair<const char*, const DatasetSplit*> splits[] = {
      {"train", &dataset.train}, {"validation", &dataset.validation}, {"test", &dataset.test}};
  for (const auto& [name, split] : splits) {
    file.tensors[std::string(name) + "_targets"] = TensorFromMatrix(split->targets);
    if (labels) file.tensors[std::string(name) + "_labels"] = TensorFromMatrix(split->labels);
  }
  file.metadata["format"] = kFormat;
  file.metadata["version"] = kVersion;
  file.metadata["arm"] = dataset.arm_json;
  file.metadata["options"] = OptionsToJson(dataset.options).dump();
  file.metadata["share_beyond_reach"] = FormatDouble(dataset.share_beyond_reach);
  WriteSafetensors(path, file);
}

Dataset LoadDataset(const std::string& path) {
  const SafetensorsFile file = ReadSafetensors(path);
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kFormat) {
    throw InputError(path + ": not a deepik dataset: expected metadata format '" + kFormat + "', got " +
                     (format == file.metadata.end() ? std::string("none") : "'" + format->second + "'"));
  }
  const std::string& version = MetadataField(file, "version", path);
  if (version != kVersion) {
    throw InputError(path + ": expected dataset version " + kVersion + ", got '" + version + "'");
  }
  Dataset dataset;
  dataset.arm_json = MetadataField(file, "arm", path);
  int num_joints = 0;
  try {
    num_joints = ChainFromJson(dataset.arm_json).num_joints();
  } catch (const InputError& error) {
    throw InputError(path + ": metadata 'arm': " + error.what());
  }
  dataset.options = OptionsFromJson(MetadataField(file, "options", path), path);
  const std::string& share = MetadataField(file, "share_beyond_reach", path);
  const auto [end, parse_error] =
      std::from_chars(share.data(), share.data() + share.size(), dataset.share_beyond_reach);
  if (parse_error != std::errc() || end != share.data() + share.size() ||
      !(dataset.share_beyond_reach >= 0 && dataset.share_beyond_reach <= 1)) {
    throw InputError(path + ": metadata 'share_beyond_reach': expected a number in [0, 1], got '" + share +
                     "'");
  }

  const bool labels = HasLabels(dataset.options.kind);
  const std::pair<const char*, DatasetSplit*> splits[] = {
      {"train", &dataset.train}, {"validation", &dataset.validation}, {"test", &dataset.test}};
  for (const auto& [name, split] : splits) {
    const std::string prefix(name);
    split->targets = MatrixFromTensor<Targets>(file, prefix + "_targets", 3, path);
    if (labels) {
      split->labels = MatrixFromTensor<Labels>(file, prefix + "_labels", num_joints, path);
      if (split->labels.rows() != split->targets.rows()) {
        throw InputError(path + ": tensor '" + prefix + "_labels': expected " +
                         std::to_string(split->targets.rows()) + " rows like '" + prefix + "_targets', got " +
                         std::to_string(split->labels.rows()));
      }
    } else if (file.tensors.count(prefix + "_labels") > 0) {
      throw InputError(path + ": tensor '" + prefix + "_labels': unexpected for the " +
                       ToString(dataset.options.kind) + " sampler, which has no labels");
    } else {
      split->labels.resize(0, num_joints);
    }
  }
  return dataset;
}

}  // namespace deepik

#include "deepik/learn/model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "deepik/errors.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/fk.hpp"
#include "deepik/kinematics/joint_configuration.hpp"
#include "learn/dense_layer.hpp"

namespace deepik {
namespace {

constexpr const char* kFormat = "deepik-model";
constexpr const char* kVersion = "1";

const RawTensor& Tensor(const SafetensorsFile& file, const std::string& name, const std::string& source) {
  const auto it = file.tensors.find(name);
  if (it == file.tensors.end())
    throw InputError(source + ": not a complete deepik model: tensor '" + name + "' is missing");
  if (it->second.dtype != "F32")
    throw InputError(source + ": tensor '" + name + "': expected F32, got " + it->second.dtype);
  return it->second;
}

void ExpectShape(const RawTensor& tensor, const std::vector<int64_t>& shape, const std::string& name,
                 const std::string& source) {
  if (tensor.shape != shape) {
    auto text = [](const std::vector<int64_t>& s) {
      std::string t = "[";
      for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
      return t + "]";
    };
    throw InputError(source + ": tensor '" + name + "': expected shape " + text(shape) + ", got " +
                     text(tensor.shape));
  }
}

// A field of a network description, of the type `is_type` tests.
const nlohmann::json& TypedField(const nlohmann::json& j, const char* key,
                                 bool (nlohmann::json::*is_type)() const) {
  const auto it = j.find(key);
  if (it == j.end()) throw InputError(std::string("network.") + key + ": missing");
  if (!((*it).*is_type)()) {
    const char* expected = is_type == &nlohmann::json::is_boolean ? "true or false" : "a string";
    throw InputError(std::string("network.") + key + ": expected " + expected + ", got " + it->dump());
  }
  return *it;
}

// An integer field of a network description: an integer in the JSON (1.5 or "2" is refused,
// never truncated), within int's range; `fallback` when absent and not `required`.
int IntegerField(const nlohmann::json& j, const char* key, int fallback, bool required) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) throw InputError(std::string("network.") + key + ": missing");
    return fallback;
  }
  if (!it->is_number_integer() || *it < std::numeric_limits<int>::min() ||
      *it > std::numeric_limits<int>::max()) {
    throw InputError(std::string("network.") + key + ": expected an integer, got " + it->dump());
  }
  return it->get<int>();
}

// Every tensor of a model file belongs to its network: a tensor the network description does
// not account for (a layer beyond `depth`, say) means the description is not the file's network.
void ExpectOnlyNetworkTensors(const SafetensorsFile& file, const NetworkOptions& network,
                              const std::string& source) {
  std::set<std::string> expected = {"out.weight", "out.bias", "input_mean", "input_std"};
  for (int k = 0; k < network.depth; ++k) {
    expected.insert("hidden." + std::to_string(k) + ".weight");
    expected.insert("hidden." + std::to_string(k) + ".bias");
  }
  for (const auto& [name, tensor] : file.tensors) {
    if (expected.count(name) == 0) {
      throw InputError(source + ": tensor '" + name +
                       "' is not part of the network the file describes (network: " +
                       std::to_string(network.depth) + " hidden layers, tensors hidden.0 .. hidden." +
                       std::to_string(network.depth - 1) + ", out, input_mean, input_std)");
    }
  }
}

}  // namespace

std::string NetworkOptionsToJson(const NetworkOptions& o) {
  nlohmann::json j{{"depth", o.depth},
                   {"width", o.width},
                   {"activation", ToString(o.activation)},
                   {"head", ToString(o.head)},
                   {"periodic_sincos", o.periodic_sincos}};
  // Recorded for pose models only: a position model's description (and with it its file and the
  // resume check of its checkpoints) stays what it was before pose models existed.
  if (o.target != TargetKind::kPosition) j["target"] = ToString(o.target);
  if (o.newton_steps > 0) j["newton_steps"] = o.newton_steps;  // as target: older files unchanged
  // Likewise for one head: only multi-head models record their head count.
  if (o.heads != 1) j["heads"] = o.heads;
  if (o.newton_every_head) j["newton_every_head"] = true;
  return j.dump();
}

NetworkOptions NetworkOptionsFromJson(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object()) throw InputError("network: expected a JSON object, got " + j.dump());
    static const std::set<std::string> kFields = {"depth",        "width",           "activation",
                                                  "head",         "periodic_sincos", "target",
                                                  "newton_steps", "heads",           "newton_every_head"};
    for (const auto& item : j.items()) {
      if (kFields.count(item.key()) == 0) throw InputError("network." + item.key() + ": unknown field");
    }
    NetworkOptions o;
    o.depth = IntegerField(j, "depth", o.depth, true);
    o.width = IntegerField(j, "width", o.width, true);
    o.activation =
        ActivationFromString(TypedField(j, "activation", &nlohmann::json::is_string).get<std::string>());
    o.head = OutputHeadFromString(TypedField(j, "head", &nlohmann::json::is_string).get<std::string>());
    o.periodic_sincos = TypedField(j, "periodic_sincos", &nlohmann::json::is_boolean).get<bool>();
    if (j.contains("target")) {
      o.target = TargetKindFromString(TypedField(j, "target", &nlohmann::json::is_string).get<std::string>());
    }
    o.newton_steps = IntegerField(j, "newton_steps", o.newton_steps, false);
    o.heads = IntegerField(j, "heads", o.heads, false);
    if (j.contains("newton_every_head")) {
      o.newton_every_head = TypedField(j, "newton_every_head", &nlohmann::json::is_boolean).get<bool>();
    }
    std::string error;
    if (!o.IsValid(&error)) throw InputError("network: " + error);
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("network description: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw InputError(std::string("network description: ") + e.what());
  }
}

std::string HistoryToJson(const std::vector<EpochRecord>& history) {
  nlohmann::json rows = nlohmann::json::array();
  for (const EpochRecord& r : history) {
    rows.push_back({{"epoch", r.epoch},
                    {"step", r.step},
                    {"train_loss", r.train_loss},
                    {"validation_loss", r.validation_loss},
                    {"validation_median", r.validation_median},
                    {"learning_rate", r.learning_rate},
                    {"seconds", r.seconds}});
    if (!std::isnan(r.validation_angle_median)) {
      rows.back()["validation_p95"] = r.validation_p95;
      rows.back()["validation_angle_median"] = r.validation_angle_median;
      rows.back()["validation_angle_p95"] = r.validation_angle_p95;
    }
    if (!std::isnan(r.validation_median_in_reach)) {
      rows.back()["validation_median_in_reach"] = r.validation_median_in_reach;
      rows.back()["validation_p99_in_reach"] = r.validation_p99_in_reach;
    }
    if (!std::isnan(r.out_of_reach_excess_median)) {
      rows.back()["out_of_reach_excess_median"] = r.out_of_reach_excess_median;
    }
  }
  return rows.dump();
}

std::vector<EpochRecord> HistoryFromJson(const std::string& text) {
  std::vector<EpochRecord> history;
  if (text.empty()) return history;
  try {
    for (const nlohmann::json& row : nlohmann::json::parse(text)) {
      EpochRecord r;
      for (const char* key : {"epoch", "step"}) {
        if (!row.at(key).is_number_integer()) {
          throw InputError(std::string("training history: ") + key + ": expected an integer, got " +
                           row.at(key).dump());
        }
      }
      r.epoch = row.at("epoch").get<int>();
      r.step = row.at("step").get<int64_t>();
      r.train_loss = row.at("train_loss").get<double>();
      r.validation_loss = row.at("validation_loss").get<double>();
      r.validation_median = row.at("validation_median").get<double>();
      r.learning_rate = row.at("learning_rate").get<double>();
      r.seconds = row.at("seconds").get<double>();
      if (row.contains("validation_angle_median")) {
        r.validation_p95 = row.at("validation_p95").get<double>();
        r.validation_angle_median = row.at("validation_angle_median").get<double>();
        r.validation_angle_p95 = row.at("validation_angle_p95").get<double>();
      }
      if (row.contains("validation_median_in_reach")) {
        r.validation_median_in_reach = row.at("validation_median_in_reach").get<double>();
        r.validation_p99_in_reach = row.at("validation_p99_in_reach").get<double>();
      }
      if (row.contains("out_of_reach_excess_median")) {
        r.out_of_reach_excess_median = row.at("out_of_reach_excess_median").get<double>();
      }
      history.push_back(r);
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("training history: ") + e.what());
  }
  return history;
}

SafetensorsFile MakeModelFile(const Chain& chain, const NetworkOptions& network,
                              std::map<std::string, RawTensor> tensors, const std::string& training_json,
                              const std::vector<EpochRecord>& history, const std::string& metrics_json) {
  SafetensorsFile file;
  file.tensors = std::move(tensors);
  file.metadata["format"] = kFormat;
  file.metadata["version"] = kVersion;
  file.metadata["arm"] = ChainToJson(chain);
  file.metadata["network"] = NetworkOptionsToJson(network);
  file.metadata["training"] = training_json;
  file.metadata["history"] = HistoryToJson(history);
  file.metadata["metrics"] = metrics_json;
  return file;
}

IkModel::IkModel(const IkModel& other)
    : file_(other.file_),
      chain_(other.chain_ ? std::make_unique<Chain>(*other.chain_) : nullptr),
      network_(other.network_),
      layers_(other.layers_),
      input_mean_(other.input_mean_),
      input_std_(other.input_std_),
      head_outputs_(other.head_outputs_),
      output_column_(other.output_column_),
      sincos_(other.sincos_),
      lower_f_(other.lower_f_),
      upper_f_(other.upper_f_) {}

IkModel& IkModel::operator=(const IkModel& other) {
  if (this != &other) *this = IkModel(other);
  return *this;
}

IkModel IkModel::FromSafetensors(const SafetensorsFile& file, const std::string& source) {
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kFormat) {
    throw InputError(source + ": not a deepik model file (metadata 'format' is not \"deepik-model\")");
  }
  const auto version = file.metadata.find("version");
  if (version == file.metadata.end() || version->second != kVersion) {
    throw InputError(source + ": unsupported deepik model version (expected " + kVersion + ")");
  }
  IkModel model;
  model.file_ = file;
  try {
    model.chain_ = std::make_unique<Chain>(ChainFromJson(file.metadata.at("arm")));
    model.network_ = NetworkOptionsFromJson(file.metadata.at("network"));
    HistoryFromJson(model.Metadata("history"));  // validates
  } catch (const std::out_of_range&) {
    throw InputError(source + ": not a complete deepik model: metadata 'arm' or 'network' is missing");
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
  const Chain& chain = *model.chain_;
  const NetworkOptions& net = model.network_;
  ExpectOnlyNetworkTensors(file, net, source);
  const int64_t inputs = InputCount(net.target);
  int64_t in = inputs;
  for (int k = 0; k <= net.depth; ++k) {
    const bool last = k == net.depth;
    const std::string prefix = last ? "out" : "hidden." + std::to_string(k);
    const int64_t out = last ? int64_t{net.heads} * RawOutputCount(chain, net) : net.width;
    const RawTensor& W = Tensor(file, prefix + ".weight", source);
    const RawTensor& b = Tensor(file, prefix + ".bias", source);
    ExpectShape(W, {out, in}, prefix + ".weight", source);
    ExpectShape(b, {out}, prefix + ".bias", source);
    Layer layer;
    const std::vector<float> w = W.ToFloats(), bias = b.ToFloats();
    layer.W = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        w.data(), out, in);
    layer.W_columns = layer.W;
    layer.b = Eigen::Map<const Eigen::VectorXf>(bias.data(), out);
    if (!layer.W.allFinite() || !layer.b.allFinite())
      throw InputError(source + ": tensor '" + prefix + "' holds NaN or inf");
    model.layers_.push_back(std::move(layer));
    in = out;
  }
  for (const char* name : {"input_mean", "input_std"}) {
    const RawTensor& t = Tensor(file, name, source);
    ExpectShape(t, {inputs}, name, source);
    const std::vector<float> v = t.ToFloats();
    (std::string(name) == "input_mean" ? model.input_mean_ : model.input_std_) =
        Eigen::Map<const Eigen::VectorXf>(v.data(), inputs);
  }
  if (!model.input_mean_.allFinite() || !(model.input_std_.array() > 0).all()) {
    throw InputError(source + ": input normalisation is not finite and positive");
  }
  model.head_outputs_ = RawOutputCount(chain, net);
  int column = 0;
  for (const Joint& joint : chain.joints()) {
    const bool periodic = net.periodic_sincos && IsFullTurn(joint);
    model.output_column_.push_back(column);
    model.sincos_.push_back(periodic);
    column += periodic ? 2 : 1;
  }
  std::vector<float> lo, hi;
  InwardFloatLimits(chain, &lo, &hi);
  model.lower_f_ = Eigen::Map<const Eigen::VectorXf>(lo.data(), static_cast<Eigen::Index>(lo.size()));
  model.upper_f_ = Eigen::Map<const Eigen::VectorXf>(hi.data(), static_cast<Eigen::Index>(hi.size()));
  return model;
}

IkModel IkModel::Load(const std::string& path) { return FromSafetensors(ReadSafetensors(path), path); }

void IkModel::Save(const std::string& path) const { WriteSafetensors(path, file_); }

std::string IkModel::Metadata(const std::string& key) const {
  const auto it = file_.metadata.find(key);
  return it == file_.metadata.end() ? std::string() : it->second;
}

std::vector<EpochRecord> IkModel::History() const { return HistoryFromJson(Metadata("history")); }

Eigen::Matrix<double, 9, 1> IkModel::CheckedInput(const Eigen::Vector3d& p_BT,
                                                  const Eigen::Matrix3d* R_BT) const {
  Eigen::Matrix<double, 9, 1> input = Eigen::Matrix<double, 9, 1>::Zero();
  if (R_BT == nullptr) {
    if (network_.target != TargetKind::kPosition) {
      throw InputError(
          "the model was trained for full-pose targets: expected a position and an orientation, "
          "got a position only");
    }
    input.head<3>() = p_BT;
    return input;
  }
  if (network_.target != TargetKind::kPose) {
    throw InputError(
        "the model was trained for position targets: expected a position only, got a position "
        "and an orientation (use a pose model)");
  }
  return PoseInput(p_BT, *R_BT);
}

IkModel::NetworkTarget IkModel::ReadTarget(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d* R_BT) {
  // The target as the network reads it: rounded to float32, as its ONNX graph's input.
  auto rounded = [](const Eigen::Vector3d& v) { return v.cast<float>().cast<double>().eval(); };
  NetworkTarget target;
  target.p = rounded(p_BT);
  target.pose = R_BT != nullptr;
  if (target.pose) {
    // The rotation from the two columns the network reads, made orthonormal (Gram-Schmidt).
    const Eigen::Vector3d c0 = rounded(R_BT->col(0)).normalized();
    const Eigen::Vector3d b = rounded(R_BT->col(1));
    const Eigen::Vector3d c1 = (b - c0.dot(b) * c0).normalized();
    target.R << c0, c1, c0.cross(c1);
  }
  return target;
}

void IkModel::NewtonStep(const NetworkTarget& target, Eigen::Ref<Eigen::VectorXd> q, Scratch* s) const {
  const Chain& chain = *chain_;
  const int n = chain.num_joints();
  Eigen::Isometry3d X_BT;
  s->jacobian.resize(6, n);
  TipPoseAndJacobian(chain, q, &X_BT, s->jacobian);
  if (!target.pose) {
    const auto J = s->jacobian.topRows<3>();
    const Eigen::Vector3d e = target.p - X_BT.translation();
    Eigen::Matrix3d JJt = J * J.transpose();
    JJt.diagonal().array() += kNewtonDamping * kNewtonDamping + e.squaredNorm();
    q.noalias() += J.transpose() * JJt.llt().solve(e);
  } else {
    // r = (p* - p, -a phi), phi = log(R R*^T) (base frame); rows 3-5 of J become a Jl^-1(phi) J_w.
    const Eigen::Matrix3d M = X_BT.linear() * target.R.transpose();
    const Eigen::Vector3d v = 0.5 * Eigen::Vector3d(M(2, 1) - M(1, 2), M(0, 2) - M(2, 0), M(1, 0) - M(0, 1));
    const double sine = v.norm(), angle = std::atan2(sine, 0.5 * (M.trace() - 1.0));
    const Eigen::Vector3d phi = v * (sine > 0 ? angle / sine : 1.0);
    const double c =
        angle < kSmallRotationAngle
            ? 1.0 / 12.0 + angle * angle / 720.0
            : 1.0 / (angle * angle) - std::cos(0.5 * angle) / (2.0 * angle * std::sin(0.5 * angle));
    auto& J = s->jacobian;
    for (int j = 0; j < n; ++j) {
      const Eigen::Vector3d w = J.col(j).tail<3>(), phi_w = phi.cross(w);
      J.col(j).tail<3>() = kNewtonAngleWeight * (w - 0.5 * phi_w + c * phi.cross(phi_w));
    }
    Eigen::Matrix<double, 6, 1> r;
    r << target.p - X_BT.translation(), -kNewtonAngleWeight * phi;
    Eigen::Matrix<double, 6, 6> JJt = J * J.transpose();
    JJt.diagonal().array() += kNewtonDamping * kNewtonDamping + r.squaredNorm();
    q.noalias() += J.transpose() * JJt.llt().solve(r);
  }
  // The answer within the limits rounded inwards to float32, as the head's: the float32 output of
  // the graph then holds the same values.
  ProjectIntoLimits(chain, q);
  q = q.cwiseMax(lower_f_.cast<double>()).cwiseMin(upper_f_.cast<double>());
}

void IkModel::Predict(const Eigen::Vector3d& p_BT, Eigen::Ref<Eigen::VectorXd> q, Scratch* s,
                      ForwardPrecision precision) const {
  const Eigen::Matrix<double, 9, 1> input = CheckedInput(p_BT, nullptr);
  RawOutputs(input.data(), s, precision);
  Answer(ReadTarget(p_BT, nullptr), q, s);
}

void IkModel::Predict(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d& R_BT, Eigen::Ref<Eigen::VectorXd> q,
                      Scratch* s, ForwardPrecision precision) const {
  const Eigen::Matrix<double, 9, 1> input = CheckedInput(p_BT, &R_BT);
  RawOutputs(input.data(), s, precision);
  Answer(ReadTarget(p_BT, &R_BT), q, s);
}

void IkModel::Answer(const NetworkTarget& target, Eigen::Ref<Eigen::VectorXd> q, Scratch* s) const {
  if (StepsEveryHead()) {
    q = s->q_heads.col(StepEveryHead(target, s));
    return;
  }
  SelectHead(target, q, s);
  for (int k = 0; k < network_.newton_steps; ++k) NewtonStep(target, q, s);
}

bool IkModel::StepsEveryHead() const {
  return network_.newton_every_head && network_.heads > 1 && network_.newton_steps > 0;
}

int IkModel::StepEveryHead(const NetworkTarget& target, Scratch* s) const {
  s->q_heads.resize(chain_->num_joints(), network_.heads);
  s->head_errors.resize(network_.heads);
  const Eigen::Matrix3d* R = target.pose ? &target.R : nullptr;
  for (int h = 0; h < network_.heads; ++h) {
    HeadJoints(s->raw, h, s->q_heads.col(h));
    for (int k = 0; k < network_.newton_steps; ++k) NewtonStep(target, s->q_heads.col(h), s);
    s->head_errors[h] = HeadSelectionError(*chain_, s->q_heads.col(h), target.p, R);
  }
  return ClosestHead(&s->head_errors);
}

int IkModel::ClosestHead(Eigen::VectorXd* errors) {
  // A NaN error (a non-finite head) never wins; a finite one beats a NaN.
  for (double& error : *errors) {
    if (std::isnan(error)) error = std::numeric_limits<double>::infinity();
  }
  // The first head within kHeadTie of the least error: heads that reach the target equally well
  // (to rounding) are a tie, which every route (the ONNX graph, NumPy) breaks the same way.
  const double least = errors->minCoeff();
  int best = 0;
  while (!((*errors)[best] <= least + kHeadTie)) ++best;
  return best;
}

Eigen::VectorXd IkModel::Predict(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d& R_BT) const {
  Eigen::VectorXd q(chain_->num_joints());
  Scratch scratch;
  Predict(p_BT, R_BT, q, &scratch);
  return q;
}

Eigen::MatrixXd IkModel::PredictHeads(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d* R_BT, int* best,
                                      ForwardPrecision precision) const {
  const Eigen::Matrix<double, 9, 1> input = CheckedInput(p_BT, R_BT);
  const NetworkTarget target = ReadTarget(p_BT, R_BT);
  Scratch s;
  RawOutputs(input.data(), &s, precision);
  if (StepsEveryHead()) {
    const int chosen = StepEveryHead(target, &s);
    if (best != nullptr) *best = chosen;
    return s.q_heads;
  }
  Eigen::MatrixXd heads(chain_->num_joints(), network_.heads);
  for (int h = 0; h < network_.heads; ++h) HeadJoints(s.raw, h, heads.col(h));
  if (best != nullptr) {
    Eigen::VectorXd q(chain_->num_joints());
    *best = SelectHead(target, q, &s);
  }
  // Each head ends with the Newton steps, as Predict's answer (the selected head) does.
  for (int h = 0; h < network_.heads; ++h) {
    for (int k = 0; k < network_.newton_steps; ++k) NewtonStep(target, heads.col(h), &s);
  }
  return heads;
}

IkModel IkModel::WithNewtonSteps(int steps, bool every_head) const {
  NetworkOptions network = network_;
  network.newton_steps = steps;
  network.newton_every_head = every_head;
  std::string error;
  if (!network.IsValid(&error)) throw std::invalid_argument("IkModel::WithNewtonSteps: " + error);
  IkModel model(*this);
  model.network_ = network;
  model.file_.metadata["network"] = NetworkOptionsToJson(network);
  return model;
}

int IkModel::SelectHead(const NetworkTarget& target, Eigen::Ref<Eigen::VectorXd> q, Scratch* s) const {
  HeadJoints(s->raw, 0, q);
  if (network_.heads == 1) return 0;
  s->q_head.resize(chain_->num_joints());
  s->head_errors.resize(network_.heads);
  const Eigen::Matrix3d* R = target.pose ? &target.R : nullptr;
  for (int h = 0; h < network_.heads; ++h) {
    HeadJoints(s->raw, h, s->q_head);
    s->head_errors[h] = HeadSelectionError(*chain_, s->q_head, target.p, R);
  }
  const int best = ClosestHead(&s->head_errors);
  if (best > 0) HeadJoints(s->raw, best, q);
  return best;
}

void IkModel::RawOutputs(const double* input, Scratch* s, ForwardPrecision precision) const {
  if (precision == ForwardPrecision::kFloat64) {
    Forward(input, &s->a64, &s->b64, &s->raw);
  } else {
    Forward(input, &s->a, &s->b, &s->raw);
  }
}

template <typename T>
void IkModel::Forward(const double* input, Eigen::Matrix<T, Eigen::Dynamic, 1>* a,
                      Eigen::Matrix<T, Eigen::Dynamic, 1>* b, Eigen::VectorXf* raw) const {
  // Both buffers hold the widest layer; each layer works on their leading segments, so nothing
  // is allocated after the first call.
  const Eigen::Index inputs = input_mean_.size();
  const Eigen::Index outputs = layers_.back().b.size();
  const Eigen::Index capacity = std::max<Eigen::Index>({network_.width, outputs, inputs});
  if (a->size() < capacity) {
    a->resize(capacity);
    b->resize(capacity);
  }
  Eigen::Index in = inputs;
  // The input is rounded to float32 first in either precision (the ONNX graph's input is float32).
  for (Eigen::Index i = 0; i < inputs; ++i) {
    (*a)[i] = (static_cast<T>(static_cast<float>(input[i])) - static_cast<T>(input_mean_[i])) /
              static_cast<T>(input_std_[i]);
  }
  for (size_t k = 0; k < layers_.size(); ++k) {
    const Layer& layer = layers_[k];
    const Eigen::Index out = layer.b.size();
    internal::DenseLayer(layer.W.data(), layer.W_columns.data(), layer.b.data(), a->data(), b->data(),
                         static_cast<int>(out), static_cast<int>(in));
    auto y = b->head(out);
    if (k + 1 < layers_.size()) {
      switch (network_.activation) {
        case Activation::kRelu:
          y = y.cwiseMax(T(0));
          break;
        case Activation::kTanh:
          y = y.array().tanh().matrix();
          break;
        case Activation::kSilu:
          y = (y.array() / (T(1) + (-y.array()).exp())).matrix();
          break;
      }
    }
    a->swap(*b);
    in = out;
  }
  // The heads work in float32 from the raw outputs rounded to float32 (relative rounding:
  // harmless even for a short (sin, cos) pair).
  *raw = a->head(outputs).template cast<float>();
}

void IkModel::HeadJoints(const Eigen::VectorXf& raw, int head, Eigen::Ref<Eigen::VectorXd> q) const {
  const int offset = head * head_outputs_;
  const auto z = [&](int c) { return raw[offset + c]; };
  // With Newton steps the head is in float64 (on the float32 raw outputs): runtimes round a
  // float32 sigmoid or atan2 an ulp apart, and the steps can magnify that far beyond 1e-5 (a
  // stretched arm just beyond its reach); in float64 the runtimes' difference stays ~1e-16.
  const bool wide = network_.newton_steps > 0;
  for (int j = 0; j < chain_->num_joints(); ++j) {
    const int c = output_column_[static_cast<size_t>(j)];
    const double lower = lower_f_[j], upper = upper_f_[j];
    double value;
    if (sincos_[static_cast<size_t>(j)]) {
      value = wide ? std::atan2(double{z(c)}, double{z(c + 1)}) : std::atan2(z(c), z(c + 1));
    } else if (network_.head == OutputHead::kBounded) {
      value = wide ? lower + (upper - lower) * (1.0 / (1.0 + std::exp(-double{z(c)})))
                   : lower_f_[j] + (upper_f_[j] - lower_f_[j]) * (1.0f / (1.0f + std::exp(-z(c))));
    } else {
      q[j] = z(c);
      continue;
    }
    q[j] = std::clamp(value, lower, upper);
  }
}

Eigen::VectorXd IkModel::Predict(const Eigen::Vector3d& p_BT) const {
  Eigen::VectorXd q(chain_->num_joints());
  Scratch scratch;
  Predict(p_BT, q, &scratch);
  return q;
}

}  // namespace deepik

// A trained IK model: one self-contained safetensors file (weights, arm, normalisation,
// architecture, training options, history, headline metrics), and a lean inference path that
// needs no libtorch.
#pragma once

#include <Eigen/Core>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "deepik/data/safetensors.hpp"
#include "deepik/kinematics/chain.hpp"
#include "deepik/learn/network_options.hpp"

namespace deepik {

/// One epoch of training, as recorded in the model file and the CSV log.
struct EpochRecord {
  int epoch = 0;
  int64_t step = 0;              ///< optimiser steps so far
  double train_loss = 0;         ///< mean training loss of the epoch
  double validation_loss = 0;    ///< loss on the validation split
  double validation_median = 0;  ///< median position error on the validation split (m)
  /// Pose models only (NaN otherwise, and then absent from files): the 95th percentile of the
  /// position error (m) and the median and 95th percentile of the angle error (rad).
  double validation_p95 = std::numeric_limits<double>::quiet_NaN();
  double validation_angle_median = std::numeric_limits<double>::quiet_NaN();
  double validation_angle_p95 = std::numeric_limits<double>::quiet_NaN();
  double learning_rate = 0;
  double seconds = 0;  ///< wall time since the run started (excluding earlier runs' time)
  /// The figure of the headline, per epoch (NaN in files from before it, and then absent): the
  /// network alone on a fixed set of in-reach targets (FK of uniform random joint values, seeded,
  /// never in training): median and 99th percentile of the position error (m).
  double validation_median_in_reach = std::numeric_limits<double>::quiet_NaN();
  double validation_p99_in_reach = std::numeric_limits<double>::quiet_NaN();
  /// Position models trained on targets that may lie out of reach (the workspace sampler): over
  /// the validation targets out of reach, the median of the network's position error minus the
  /// distance from the target to the closest reachable point (m); 0 = as close as the arm can
  /// get. NaN (absent from files) when the validation split has no target out of reach.
  double out_of_reach_excess_median = std::numeric_limits<double>::quiet_NaN();
};

/// The arithmetic of IkModel::Predict (the weights are float32 either way).
enum class ForwardPrecision {
  /// float64 sums and activations on the float32 weights, the head's last step in float32: the
  /// network's answer (the `network` solver), which the ONNX export and NumPy reproduce far within
  /// 1e-5 whatever their order of summation.
  kFloat64,
  /// float32 throughout: faster (~0.1 us of 0.4 us on a 3 x 64 network), but the order of its
  /// float32 sums moves outputs by up to ~1e-4 rad where the head amplifies them (a short
  /// (sin, cos) pair, a wide bounded range); for starts that refinement then corrects.
  kFloat32,
};

/// A loaded model. Immutable after loading: one IkModel can serve many threads.
class IkModel {
 public:
  /// Scratch for Predict, one per thread.
  struct Scratch {
    Eigen::VectorXf a, b;                               // kFloat32
    Eigen::VectorXd a64, b64;                           // kFloat64
    Eigen::VectorXf raw;                                // the last layer's outputs, every head
    Eigen::VectorXd q_head;                             // one head's joint values (multi-head models)
    Eigen::VectorXd head_errors;                        // every head's HeadSelectionError
    Eigen::MatrixXd q_heads;                            // every head after its steps (newton_every_head)
    Eigen::Matrix<double, 6, Eigen::Dynamic> jacobian;  // the Newton steps (network.newton_steps)
  };

  IkModel() = default;
  /// A deep copy (the chain too): each copy is independent of the original's lifetime.
  IkModel(const IkModel& other);
  IkModel& operator=(const IkModel& other);
  IkModel(IkModel&&) noexcept = default;
  IkModel& operator=(IkModel&&) noexcept = default;

  /// Builds the model from a file's content.
  /// @throws InputError (naming `source`) when a tensor or metadata field is missing or has the
  ///         wrong shape, or the file is not a deepik model.
  static IkModel FromSafetensors(const SafetensorsFile& file, const std::string& source);
  /// @throws InputError naming the file when it is missing, truncated, corrupted or not a model.
  static IkModel Load(const std::string& path);

  /// The file content: tensors (float32 weights) and metadata; written by Save.
  const SafetensorsFile& file() const { return file_; }
  /// @throws InputError when the file cannot be written.
  void Save(const std::string& path) const;

  const Chain& chain() const { return *chain_; }
  const NetworkOptions& network() const { return network_; }
  /// Position or pose: which Predict the model answers.
  TargetKind target() const { return network_.target; }
  /// Joint vectors the network answers per target (NetworkOptions::heads; 1 for older files).
  int heads() const { return network_.heads; }
  /// Metadata JSON texts: "training" (options), "history", "metrics"; empty when absent.
  std::string Metadata(const std::string& key) const;
  std::vector<EpochRecord> History() const;

  /// The network's joint values for one position target (m, base frame), computed without
  /// libtorch in `precision` (equal to libtorch's float32 answer within 1e-5), then clamped to the
  /// joint limits. A multi-head model answers with the head whose FK is closest to the target
  /// (HeadSelectionError, on the target as the network reads it: rounded to float32; the lowest
  /// index among the heads within kHeadTie of the least error). Then the Newton steps
  /// (NetworkOptions::newton_steps; with newton_every_head, every head takes them and the choice
  /// comes after). Allocates nothing once `scratch` has been used.
  /// @throws InputError when the model is a pose model (it needs an orientation too).
  void Predict(const Eigen::Vector3d& p_BT, Eigen::Ref<Eigen::VectorXd> q, Scratch* scratch,
               ForwardPrecision precision = ForwardPrecision::kFloat64) const;
  /// Convenience form that allocates.
  Eigen::VectorXd Predict(const Eigen::Vector3d& p_BT) const;
  /// The same for a full-pose target: tip position p_BT (m) and orientation R_BT (a rotation
  /// matrix), both in the base frame; the head's choice and the Newton steps use the rotation
  /// the network reads (the first two columns of R_BT rounded to float32, made orthonormal).
  /// @throws InputError when the model is a position model (it cannot use an orientation).
  void Predict(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d& R_BT, Eigen::Ref<Eigen::VectorXd> q,
               Scratch* scratch, ForwardPrecision precision = ForwardPrecision::kFloat64) const;
  /// Convenience form that allocates.
  Eigen::VectorXd Predict(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d& R_BT) const;

  /// This model with `steps` Newton steps ending its forward pass (NetworkOptions::newton_steps),
  /// on every head before the choice of the head when `every_head` (NetworkOptions::
  /// newton_every_head), its file's network description changed likewise: the steps do not enter
  /// training, so they can be set on a trained model.
  /// @throws std::invalid_argument when `steps` is out of 0..kMaxNewtonSteps.
  IkModel WithNewtonSteps(int steps, bool every_head = false) const;

  /// Every head's joint values for a position target (a pose model: R_BT too; the same checks
  /// as Predict), as columns of an n x heads() matrix, each computed as Predict computes its
  /// answer (Newton steps included); `best`, when given, receives the index of the head Predict
  /// answers with (chosen before the steps, or after them with newton_every_head, as Predict
  /// chooses).
  /// @throws InputError when the target does not match the model (as Predict).
  Eigen::MatrixXd PredictHeads(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d* R_BT, int* best = nullptr,
                               ForwardPrecision precision = ForwardPrecision::kFloat64) const;

 private:
  struct Layer {
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W;  // out x in
    Eigen::MatrixXf W_columns;  // the same, column-major (dense_layer.hpp picks per layer size)
    Eigen::VectorXf b;
  };
  SafetensorsFile file_;
  std::unique_ptr<Chain> chain_;
  NetworkOptions network_;
  // A target as the network reads it: rounded to float32 (the ONNX graph's input), and for a pose
  // R from the two columns of R_BT the network reads, made orthonormal (Gram-Schmidt).
  struct NetworkTarget {
    Eigen::Vector3d p;
    Eigen::Matrix3d R;
    bool pose = false;
  };
  static NetworkTarget ReadTarget(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d* R_BT);
  // One of the network's Newton steps toward the target (NetworkOptions::newton_steps): on the
  // position, or on the weighted pose error for a pose target.
  void NewtonStep(const NetworkTarget& target, Eigen::Ref<Eigen::VectorXd> q, Scratch* scratch) const;
  // The answer from scratch->raw: the head SelectHead chooses, then the Newton steps.
  void Answer(const NetworkTarget& target, Eigen::Ref<Eigen::VectorXd> q, Scratch* scratch) const;
  // The network input of a target, after checking that it matches the model (R_BT null: a
  // position target).
  Eigen::Matrix<double, 9, 1> CheckedInput(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d* R_BT) const;
  // The forward pass from the raw input (InputCount(target) numbers, not yet normalised) to
  // scratch->raw, every head's outputs.
  void RawOutputs(const double* input, Scratch* scratch, ForwardPrecision precision) const;
  // The layers in T (float or double) on a and b, the last layer's outputs rounded into `raw`.
  template <typename T>
  void Forward(const double* input, Eigen::Matrix<T, Eigen::Dynamic, 1>* a,
               Eigen::Matrix<T, Eigen::Dynamic, 1>* b, Eigen::VectorXf* raw) const;
  // Head `head`'s joint values from the raw outputs, in float32, clamped to the limits.
  void HeadJoints(const Eigen::VectorXf& raw, int head, Eigen::Ref<Eigen::VectorXd> q) const;
  // True when every head takes the Newton steps before the choice (NetworkOptions::newton_every_head).
  bool StepsEveryHead() const;
  // Every head's joint values after the Newton steps into scratch->q_heads; returns the closest.
  int StepEveryHead(const NetworkTarget& target, Scratch* scratch) const;
  // The first head within kHeadTie of the least of `errors` (HeadSelectionError; NaN made +inf).
  static int ClosestHead(Eigen::VectorXd* errors);
  // The head answered: the only one, or the one whose FK is closest to the target.
  int SelectHead(const NetworkTarget& target, Eigen::Ref<Eigen::VectorXd> q, Scratch* scratch) const;

  std::vector<Layer> layers_;               // hidden layers then the output layer
  Eigen::VectorXf input_mean_, input_std_;  // InputCount(target) each
  int head_outputs_ = 0;                    // raw outputs per head (RawOutputCount)
  std::vector<int> output_column_;
  std::vector<bool> sincos_;
  Eigen::VectorXf lower_f_, upper_f_;
};

/// Builds a model file's content from float32 tensors named as in IkNet (hidden.K.weight,
/// hidden.K.bias, out.weight, out.bias, input_mean, input_std) and metadata JSON texts.
SafetensorsFile MakeModelFile(const Chain& chain, const NetworkOptions& network,
                              std::map<std::string, RawTensor> tensors, const std::string& training_json,
                              const std::vector<EpochRecord>& history, const std::string& metrics_json);

/// Serialises a network's options to JSON text and back.
std::string NetworkOptionsToJson(const NetworkOptions& options);
/// @throws InputError naming the bad field.
NetworkOptions NetworkOptionsFromJson(const std::string& json);

std::string HistoryToJson(const std::vector<EpochRecord>& history);
std::vector<EpochRecord> HistoryFromJson(const std::string& json);

}  // namespace deepik

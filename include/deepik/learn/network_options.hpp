// The shape of an IK network, without libtorch (model files and the command line use it).
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"
#include "deepik/kinematics/joint_configuration.hpp"  // IsFullTurn

namespace deepik {

/// The nonlinearity between hidden layers.
enum class Activation { kRelu, kTanh, kSilu };
/// How the last layer becomes joint values.
enum class OutputHead {
  /// Raw outputs are the joint values (the seed's first model); limits can be exceeded.
  kFree,
  /// lower + (upper - lower) * sigmoid(z): the limits cannot be exceeded, by construction.
  kBounded,
};

/// What the network is asked to reach.
enum class TargetKind {
  /// A tip position: input (x, y, z) in metres, base frame (every model before full-pose IK).
  kPosition,
  /// A full tip pose: input (x, y, z, r11, r21, r31, r12, r22, r32), the position followed by the
  /// first two columns of R_BT (PoseInput). Unlike a quaternion, which is double-covered (q and
  /// -q are one rotation), these six numbers are a continuous function of the orientation.
  kPose,
};

const char* ToString(Activation activation);
const char* ToString(OutputHead head);
/// "position" or "pose".
const char* ToString(TargetKind target);
/// @throws std::invalid_argument for an unknown name (lists the known ones).
TargetKind TargetKindFromString(const std::string& name);
/// @throws std::invalid_argument for an unknown name (lists the known ones).
Activation ActivationFromString(const std::string& name);
/// @throws std::invalid_argument for an unknown name (lists the known ones).
OutputHead OutputHeadFromString(const std::string& name);

/// Architecture of the multilayer perceptron target -> joint values.
struct NetworkOptions {
  /// The input: a position (3 numbers) or a pose (9 numbers, PoseInput). Model files before
  /// full-pose IK do not record it and load as position models.
  TargetKind target = TargetKind::kPosition;
  int depth = 4;    ///< hidden layers
  int width = 256;  ///< units per hidden layer
  Activation activation = Activation::kRelu;
  OutputHead head = OutputHead::kBounded;
  /// Joints whose range is a full turn (>= 2 pi) have a seam at +-180 deg that a continuous
  /// network cannot cross: with `periodic_sincos` the network predicts (sin, cos) for them and
  /// the angle is atan2(sin, cos), which is continuous across the seam and always in [-pi, pi].
  bool periodic_sincos = true;
  /// Damped Gauss-Newton steps that end the forward pass, on the arm's exact FK and Jacobian
  /// (0..kMaxNewtonSteps). A position model's step is
  /// dq = J^T (J J^T + (lambda^2 + |e|^2) I)^-1 e, e = p* - p(q), lambda = kNewtonDamping: damped
  /// by the error itself (Levenberg-Marquardt's choice of Yamashita and Fukushima, quadratic near
  /// the target), so that a start far off near a singular configuration takes a short, stable
  /// step rather than a long one. A pose model's step is the same on the 6-D residual
  /// r = (p* - p, -a phi), phi = log(R R*^T) the rotation vector (base frame) and a =
  /// kNewtonAngleWeight, weighted as the `refined` solver (PoseRefineOptions::angle_weight), with
  /// the exact Jacobian (J_v; a Jl^-1(phi) J_w), Jl the left Jacobian of SO(3), and 6 x 6 J J^T.
  /// Then a full-turn joint is wrapped into its range and every joint
  /// clamped to its limits (the head's, rounded inwards to float32). A fixed part of
  /// the network's answer, not a solver: no loop, no test, the same cost on every target. Not
  /// used in training (the layers before it learn with the FK loss as without it). With steps the
  /// head (sigmoid, atan2) is computed in float64 on the float32 raw outputs, so that the steps do
  /// not magnify a runtime's float32 rounding. Model files before it do not record it (0).
  int newton_steps = 0;
  /// Joint vectors the network answers per target (1..kMaxHeads). With H > 1 the last layer holds
  /// H heads of RawOutputCount outputs each, trained winner-takes-all (TrainOptions::
  /// other_heads_weight), so that they learn different solutions; the network's answer is the
  /// head whose FK is closest to the target (HeadSelectionError), the others are extra starts for
  /// several solutions. Model files before multi-head models hold one head.
  int heads = 1;
  static constexpr int kMaxHeads = 64;
  /// Multi-head models with Newton steps: every head takes the steps and the answer is the head
  /// closest to the target after them (HeadSelectionError, the same tie rule), instead of the
  /// steps on the head chosen before them. heads x newton_steps steps instead of newton_steps,
  /// still a fixed cost; a head on a branch whose steps converge wins over one that only started
  /// closer (docs/BENCHMARKS.md: Panda, 8 heads, 4 steps, mean 1.64 mm against 5.34 mm). Without
  /// effect on one head or without steps. Model files before it do not record it (false).
  bool newton_every_head = false;

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// The most Newton steps a network may end with.
constexpr int kMaxNewtonSteps = 4;
/// The least damping lambda of the network's Newton steps (m): it bounds a step near a singular
/// configuration, where J J^T loses rank, even at the target.
constexpr double kNewtonDamping = 1e-3;
/// The weight of the angle in a pose model's Newton steps (m per rad), the `refined` solver's
/// (PoseRefineOptions::angle_weight's default): one radian weighs as 10 cm.
constexpr double kNewtonAngleWeight = 0.1;
/// Below this angle (rad) the inverse left Jacobian of SO(3) of a pose Newton step uses its series.
constexpr double kSmallRotationAngle = 1e-4;

/// Number of network inputs: 3 for a position, 9 for a pose.
int InputCount(TargetKind target);

/// The network input of a full-pose target: p_BT (m) then the first two columns of R_BT,
/// (p_x, p_y, p_z, R_00, R_10, R_20, R_01, R_11, R_21). `R_BT` must be a rotation matrix.
Eigen::Matrix<double, 9, 1> PoseInput(const Eigen::Vector3d& p_BT, const Eigen::Matrix3d& R_BT);

/// The joint limits in float32, rounded inwards, so that a float32 value within them is within
/// the true (double) limits too.
void InwardFloatLimits(const Chain& chain, std::vector<float>* lower, std::vector<float>* upper);

/// Number of raw outputs of one head of the network's last layer: one per joint, two for a
/// full-turn joint with `periodic_sincos` (the last layer holds options.heads times this).
int RawOutputCount(const Chain& chain, const NetworkOptions& options);

/// The weight of the angle error in HeadSelectionError (m per rad: 1 deg weighs as 1.75 mm).
constexpr double kHeadAngleWeight = 0.1;
/// Heads whose HeadSelectionError is within this of the least (m; 10 um) are a tie, which the
/// lowest index wins: so that rounding never decides between two heads that reach the target
/// equally well (mirror-image heads can differ by 5e-8 m, and another runtime's float32 head,
/// its sigmoid or atan2 one ulp off, moves a head's error by up to ~1e-6 m).
constexpr double kHeadTie = 1e-5;

/// How far joint values `q` miss a target, to choose a multi-head network's answer (the lowest
/// wins): |FK(q) - p_BT| (m), plus kHeadAngleWeight * the geodesic angle (rad) between FK(q)'s
/// orientation and R_BT when R_BT is given (a pose target). NaN when q is not finite.
double HeadSelectionError(const Chain& chain, const Eigen::Ref<const Eigen::VectorXd>& q,
                          const Eigen::Vector3d& p_BT, const Eigen::Matrix3d* R_BT);

}  // namespace deepik

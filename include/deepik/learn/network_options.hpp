// The shape of an IK network, without libtorch (model files and the command line use it).
#pragma once

#include <string>
#include <vector>

#include "deepik/kinematics/chain.hpp"

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

const char* ToString(Activation activation);
const char* ToString(OutputHead head);
/// @throws std::invalid_argument for an unknown name (lists the known ones).
Activation ActivationFromString(const std::string& name);
/// @throws std::invalid_argument for an unknown name (lists the known ones).
OutputHead OutputHeadFromString(const std::string& name);

/// Architecture of the multilayer perceptron target (x, y, z) -> joint values.
struct NetworkOptions {
  int depth = 4;    ///< hidden layers
  int width = 256;  ///< units per hidden layer
  Activation activation = Activation::kRelu;
  OutputHead head = OutputHead::kBounded;
  /// Joints whose range is a full turn (>= 2 pi) have a seam at +-180 deg that a continuous
  /// network cannot cross: with `periodic_sincos` the network predicts (sin, cos) for them and
  /// the angle is atan2(sin, cos), which is continuous across the seam and always in [-pi, pi].
  bool periodic_sincos = true;

  /// True when valid; otherwise false with `error` naming the offending field.
  bool IsValid(std::string* error) const;
};

/// True when the joint's range is a full turn (>= 2 pi, or continuous), where
/// `periodic_sincos` applies.
bool IsFullTurn(const Joint& joint);

/// The joint limits in float32, rounded inwards, so that a float32 value within them is within
/// the true (double) limits too.
void InwardFloatLimits(const Chain& chain, std::vector<float>* lower, std::vector<float>* upper);

/// Number of raw outputs of the network's last layer: one per joint, two for a full-turn joint
/// with `periodic_sincos`.
int RawOutputCount(const Chain& chain, const NetworkOptions& options);

}  // namespace deepik

// Forwarding header (ProjectIntoLimits now lives in deepik/kinematics/joint_configuration.hpp); removed at merge.
#include "deepik/kinematics/joint_configuration.hpp"
namespace deepik::internal { using deepik::ProjectIntoLimits; }  // NOLINT

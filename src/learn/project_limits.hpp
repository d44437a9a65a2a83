// Forwarding header: ProjectIntoLimits lives in deepik/kinematics/joint_configuration.hpp now.
#include "deepik/kinematics/joint_configuration.hpp"
namespace deepik::internal { using deepik::ProjectIntoLimits; }  // NOLINT: until model.cpp is moved

// A URDF arm's visual shapes as JSON (the "visuals" a model trained from a URDF keeps): written
// and read back, every shape's kind, link, frame, pose, size and colour survive bit for bit; text
// that is not such JSON is refused with the field named.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "deepik/errors.hpp"
#include "deepik/kinematics/chain_json.hpp"
#include "deepik/kinematics/urdf.hpp"

namespace deepik {
namespace {

bool SameBits(const double* a, const double* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(double)) == 0;
}

TEST(VisualsJsonTest, RoundTripsBitForBit) {
  const std::string urdf = std::string(DEEPIK_SOURCE_DIR) + "/tests/web/box_arm.urdf";
  const UrdfVisuals visuals = LoadUrdfVisuals(urdf, UrdfOptions{"base", "tool"});
  ASSERT_EQ(visuals.shapes.size(), 10u);
  const UrdfVisuals back = VisualsFromJson(VisualsToJson(visuals));
  ASSERT_EQ(back.shapes.size(), visuals.shapes.size());
  EXPECT_EQ(back.meshes, visuals.meshes);
  int kinds[3] = {0, 0, 0}, coloured = 0;
  for (size_t i = 0; i < visuals.shapes.size(); ++i) {
    const VisualShape& a = visuals.shapes[i];
    const VisualShape& b = back.shapes[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.link, b.link) << i;
    EXPECT_EQ(a.frame, b.frame) << i;
    EXPECT_TRUE(SameBits(a.X_FS.matrix().data(), b.X_FS.matrix().data(), 16)) << i;
    EXPECT_TRUE(SameBits(a.size.data(), b.size.data(), 3)) << i;
    EXPECT_EQ(a.rgba.allFinite(), b.rgba.allFinite()) << i;
    if (a.rgba.allFinite()) {
      EXPECT_TRUE(SameBits(a.rgba.data(), b.rgba.data(), 4)) << i;
      ++coloured;
    }
    ++kinds[static_cast<int>(a.kind)];
  }
  // The arm has every kind of shape, with and without a colour: the test covers each branch.
  EXPECT_GT(kinds[0], 0);
  EXPECT_GT(kinds[1], 0);
  EXPECT_GT(kinds[2], 0);
  EXPECT_GT(coloured, 0);
}

TEST(VisualsJsonTest, RefusesMalformedTextNamingTheField) {
  const auto message = [](const std::string& text) {
    try {
      (void)VisualsFromJson(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string shape =
      R"({"kind":"cone","link":"l","frame":0,"origin":{"xyz":[0,0,0],"R":[1,0,0,0,1,0,0,0,1]},"size":[1,1,1],"rgba":null})";
  EXPECT_NE(message("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(message(R"({"meshes":0})").find("shapes"), std::string::npos);
  EXPECT_NE(message(R"({"shapes":[)" + shape + R"(],"meshes":0})").find("shapes[0].kind"), std::string::npos);
  std::string frame = shape;
  frame.replace(frame.find("cone"), 4, "box");
  frame.replace(frame.find("\"frame\":0"), 9, "\"frame\":-2");
  EXPECT_NE(message(R"({"shapes":[)" + frame + R"(],"meshes":0})").find("shapes[0].frame"),
            std::string::npos);
  EXPECT_NE(message(R"({"shapes":[],"meshes":-1})").find("meshes"), std::string::npos);
  EXPECT_EQ(message(R"({"shapes":[],"meshes":0})"), "accepted");
}

}  // namespace
}  // namespace deepik

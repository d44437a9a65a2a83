// A small seeded training run made once per test suite and shared by its tests:
//   class TrainedX : public testing::TrainedOnce<TrainedX> {
//    public:
//     static constexpr char kName[] = "x";  // the files x.safetensors, x.ckpt, x.csv
//     static Chain Configure(SamplerOptions*, NetworkOptions*, TrainOptions*);  // the arm
//   };
// SamplerOptions start as kJoints sampling; the run's files live in dir_.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "deepik/data/dataset.hpp"
#include "deepik/learn/trainer.hpp"
#include "test_util.hpp"

namespace deepik::testing {

template <typename Derived>
class TrainedOnce : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    SamplerOptions sampler;
    sampler.kind = SamplerKind::kJoints;
    const Chain chain = Derived::Configure(&sampler, &network_, &options_);
    data_ = new Dataset(MakeDataset(chain, sampler));
    const std::string name = Derived::kName;
    TrainFiles files{dir_->Path(name + ".safetensors"), dir_->Path(name + ".ckpt"), dir_->Path(name + ".csv"),
                     false};
    result_ = new TrainResult(Train(*data_, network_, options_, files));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete data_;
    delete dir_;
  }
  static inline TempDir* dir_ = nullptr;
  static inline Dataset* data_ = nullptr;
  static inline NetworkOptions network_;
  static inline TrainOptions options_;
  static inline TrainResult* result_ = nullptr;
};

}  // namespace deepik::testing

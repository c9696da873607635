// The one reading of Resize / Upsample that the CPU and GPU kernels share
// (engine/ops/resize.h): output lengths from scales or sizes, the aspect
// ratio policies, the taps of one axis, and the errors that name what is
// wrong. The kernels' results are checked against the ONNX node tests.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "engine/ops/resize.h"

using namespace glint;

namespace {

ir::Attribute str_attr(const std::string& s) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = s;
  return a;
}

ir::Attribute ints_attr(const std::vector<int64_t>& v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = v;
  return a;
}

struct ReadingCase {
  const char* what;
  std::string op = "Resize";
  int opset = 13;
  std::vector<int64_t> dims;
  std::vector<float> scales;             // input 2 (input 1 for Resize-10 and Upsample-9)
  std::vector<int64_t> sizes;            // input 3
  std::vector<std::pair<std::string, ir::Attribute>> attrs;
  std::vector<int64_t> want_out;         // when no error
  std::string error;                     // a part of the message, or "" for none
};

ir::Node node_of(const ReadingCase& c) {
  ir::Node n;
  n.name = "r";
  n.op_type = c.op;
  n.opset = c.opset;
  for (auto& [k, v] : c.attrs) n.attrs[k] = v;
  return n;
}

}  // namespace

TEST_CASE("ops: resize reads scales, sizes, axes and policies once for both backends", "[ops][resize]") {
  const std::vector<ReadingCase> cases = {
      {"scales floor the output length", "Resize", 13, {1, 1, 5, 4}, {1, 1, 1.5f, 0.5f}, {}, {}, {1, 1, 7, 2}, ""},
      {"sizes give it", "Resize", 13, {1, 1, 5, 4}, {}, {1, 1, 3, 9}, {}, {1, 1, 3, 9}, ""},
      {"axes pick the resized axes", "Resize", 18, {2, 3, 4}, {}, {8, 2}, {{"axes", ints_attr({-1, 0})}},
       {2, 3, 8}, ""},
      {"a repeated axis", "Resize", 18, {2, 3, 4}, {}, {8, 2}, {{"axes", ints_attr({-1, 2})}}, {},
       "axes contain a repeated axis"},
      {"not_larger keeps the aspect ratio", "Resize", 18, {1, 1, 4, 8}, {}, {8, 8},
       {{"keep_aspect_ratio_policy", str_attr("not_larger")}, {"axes", ints_attr({2, 3})}}, {1, 1, 4, 8}, ""},
      {"not_smaller keeps it the other way", "Resize", 18, {1, 1, 4, 8}, {}, {8, 8},
       {{"keep_aspect_ratio_policy", str_attr("not_smaller")}, {"axes", ints_attr({2, 3})}}, {1, 1, 8, 16}, ""},
      {"a policy scales every given axis", "Resize", 18, {1, 1, 4, 8}, {}, {1, 1, 8, 8},
       {{"keep_aspect_ratio_policy", str_attr("not_smaller")}}, {2, 2, 8, 16}, ""},
      {"Upsample-9 reads scales from input 1", "Upsample", 9, {1, 2, 3}, {1, 2, 2}, {}, {}, {1, 4, 6}, ""},
      {"an unknown dim stays unknown", "Resize", 13, {1, -1, 4}, {1, 2, 2}, {}, {}, {1, -1, 8}, ""},
      {"scales and sizes both", "Resize", 13, {1, 4}, {1, 2}, {1, 8}, {}, {}, "exactly one of scales and sizes"},
      {"neither", "Resize", 13, {1, 4}, {}, {}, {}, {}, "exactly one of scales and sizes"},
      {"a zero scale", "Resize", 13, {1, 4}, {1, 0}, {}, {}, {}, "scales must be positive and finite, given 0"},
      {"too few scales", "Resize", 13, {1, 1, 4}, {1, 2}, {}, {}, {}, "scales/sizes have 2 values for 3 axes"},
      {"a hostile scale", "Resize", 13, {1, 4}, {1, 1e30f}, {}, {}, {}, "longer than an int64 can count"},
      {"a negative size", "Resize", 13, {1, 4}, {}, {1, -2}, {}, {}, "sizes must be non-negative, given -2"},
      {"an axis out of range", "Resize", 18, {1, 4}, {}, {3}, {{"axes", ints_attr({2})}}, {},
       "axes 2 is out of range for rank 2"},
      {"an unknown policy", "Resize", 18, {1, 4}, {}, {1, 3}, {{"keep_aspect_ratio_policy", str_attr("fit")}}, {},
       "unknown keep_aspect_ratio_policy 'fit'"},
      {"tf_crop_and_resize without a roi", "Resize", 13, {1, 4}, {1, 2}, {},
       {{"coordinate_transformation_mode", str_attr("tf_crop_and_resize")}}, {}, "needs a constant roi"},
  };
  for (const ReadingCase& c : cases) {
    SECTION(c.what) {
      const ir::Node node = node_of(c);
      const bool legacy = c.op == "Upsample" || c.opset < 11;
      std::optional<Tensor> scales, sizes;
      if (!c.scales.empty()) scales = Tensor::from_floats({static_cast<int64_t>(c.scales.size())}, c.scales);
      if (!c.sizes.empty()) sizes = Tensor::from_int64s({static_cast<int64_t>(c.sizes.size())}, c.sizes);
      auto constant = [&](size_t i) -> const Tensor* {
        if (i == (legacy ? 1u : 2u) && scales) return &*scales;
        if (!legacy && i == 3 && sizes) return &*sizes;
        return nullptr;
      };
      auto present = [&](size_t i) { return constant(i) != nullptr; };
      ops::ResizeAxes r;
      bool known = false;
      Status st = ops::resize_axes(node, c.dims, constant, present, &r, &known);
      INFO(st.message());
      if (!c.error.empty()) {
        REQUIRE(!st.ok());
        CHECK(st.message().find("node 'r' (" + c.op) == 0);  // the node first
        CHECK(st.message().find(c.error) != std::string::npos);
        continue;
      }
      REQUIRE(st.ok());
      CHECK(known);
      CHECK(r.out == c.want_out);
    }
  }
}

TEST_CASE("ops: resize is not known while its scales are not", "[ops][resize]") {
  ir::Node node;
  node.name = "r";
  node.op_type = "Resize";
  node.opset = 13;
  ops::ResizeAxes r;
  bool known = true;
  Status st = ops::resize_axes(
      node, {1, 4}, [](size_t) -> const Tensor* { return nullptr; }, [](size_t i) { return i == 2; }, &r, &known);
  REQUIRE(st.ok());
  CHECK_FALSE(known);
}

TEST_CASE("ops: resize taps follow the ONNX reference", "[ops][resize]") {
  ir::Node node;
  node.name = "r";
  node.op_type = "Resize";
  node.opset = 13;
  std::vector<std::vector<ops::ResizeTap>> taps;

  SECTION("nearest, half_pixel, round_prefer_floor: 4 -> 8 repeats each input twice") {
    REQUIRE(ops::resize_taps(node, 4, 8, 2.0, 0, 1, &taps).ok());
    REQUIRE(taps.size() == 8);
    for (int64_t o = 0; o < 8; ++o) {
      REQUIRE(taps[o].size() == 1);
      CHECK(taps[o][0].index == o / 2);
      CHECK(taps[o][0].weight == 1.0);
    }
  }
  SECTION("linear, align_corners: 3 -> 5 lands on inputs and halfway between, weights summing to 1") {
    node.attrs["mode"] = str_attr("linear");
    node.attrs["coordinate_transformation_mode"] = str_attr("align_corners");
    REQUIRE(ops::resize_taps(node, 3, 5, 5.0 / 3.0, 0, 1, &taps).ok());
    const double want_x[5] = {0, 0.5, 1, 1.5, 2};
    for (int64_t o = 0; o < 5; ++o) {
      double x = 0, sum = 0;
      for (const ops::ResizeTap& t : taps[o]) {
        x += t.index * t.weight;
        sum += t.weight;
      }
      CHECK(sum == Approx(1.0));
      CHECK(x == Approx(want_x[o]));
    }
  }
  SECTION("cubic weights are Keys' kernel, -0.75 by default") {
    CHECK(ops::cubic_convolution_weight(0, -0.75) == 1.0);
    CHECK(ops::cubic_convolution_weight(1, -0.75) == Approx(0.0).margin(1e-12));
    CHECK(ops::cubic_convolution_weight(0.5, -0.75) == Approx(0.59375));
    CHECK(ops::cubic_convolution_weight(-1.5, -0.75) == Approx(-0.09375));
    CHECK(ops::cubic_convolution_weight(2, -0.75) == 0.0);
  }
  SECTION("tf_crop_and_resize leaves outputs outside the input without taps (extrapolated)") {
    node.attrs["mode"] = str_attr("linear");
    node.attrs["coordinate_transformation_mode"] = str_attr("tf_crop_and_resize");
    REQUIRE(ops::resize_taps(node, 4, 3, 0.75, -0.5, 1.5, &taps).ok());
    CHECK(taps[0].empty());  // x = -1.5
    CHECK(!taps[1].empty());  // x = 1.5
    CHECK(taps[2].empty());  // x = 4.5
  }
  SECTION("unknown modes are named") {
    node.attrs["mode"] = str_attr("area");
    Status st = ops::resize_taps(node, 4, 8, 2.0, 0, 1, &taps);
    REQUIRE(!st.ok());
    CHECK(st.message() == "node 'r' (Resize, opset 13): unknown mode 'area'");
    node.attrs["mode"] = str_attr("nearest");
    node.attrs["nearest_mode"] = str_attr("up");
    st = ops::resize_taps(node, 4, 8, 2.0, 0, 1, &taps);
    CHECK(st.message() == "node 'r' (Resize, opset 13): unknown nearest_mode 'up'");
    node.attrs["coordinate_transformation_mode"] = str_attr("diagonal");
    st = ops::resize_taps(node, 4, 8, 2.0, 0, 1, &taps);
    CHECK(st.message() == "node 'r' (Resize, opset 13): unknown coordinate_transformation_mode 'diagonal'");
  }
}

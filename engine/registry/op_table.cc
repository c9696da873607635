#include "engine/registry/op_table.h"

#include "engine/cpu/contrib_attention.h"
#include "engine/cpu/kernels.h"
#include "engine/cpu/value_ops.h"
#include "engine/gl/kernels/kernels.h"
#include "engine/gl/kernels/contrib_attention.h"
#include "engine/gl/kernels/matmul_nbits.h"

namespace glint {

// Opset ranges follow the ONNX changelog where the semantics a kernel
// implements changed (legacy broadcast attributes before 7, Clip inputs at
// 11, Softmax axis at 13); a CPU kernel handles every opset of its row and
// decides opset-specific semantics from node.opset; a GPU candidate declines
// in `supports` what it does not do.
const std::vector<OpRow>& op_table() {
  static const std::vector<OpRow> table = {
    // Convolution and pooling.
    {"Conv", "", 1, kMaxOpset, cpu::infer_conv, {"conv", cpu::conv, cpu::conv_epilogue_applies}, {{"conv_depthwise", gl::conv_depthwise_supports, gl::conv_depthwise_build}, {"conv_vec4", gl::conv_vec4_supports, gl::conv_vec4_build}, {"conv_generic", gl::conv_generic_supports, gl::conv_generic_build}}, {}},
    {"MaxPool", "", 1, kMaxOpset, cpu::infer_pool, {"pool", cpu::pool}, {{"maxpool", gl::pool_supports, gl::pool_build}}, {}},
    {"AveragePool", "", 1, kMaxOpset, cpu::infer_pool, {"pool", cpu::pool}, {{"avgpool", gl::pool_supports, gl::pool_build}}, {}},
    {"GlobalAveragePool", "", 1, kMaxOpset, cpu::infer_pool, {"pool", cpu::pool}, {{"global_avgpool", gl::global_pool_supports, gl::global_pool_build}}, {}},
    {"GlobalMaxPool", "", 1, kMaxOpset, cpu::infer_pool, {"pool", cpu::pool}, {{"global_maxpool", gl::global_pool_supports, gl::global_pool_build}}, {}},

    // Matrix products.
    {"MatMul", "", 1, kMaxOpset, cpu::infer_matmul, {"matmul", cpu::matmul, cpu::matmul_epilogue_applies}, {{"matmul", gl::matmul_supports, gl::matmul_build}}, {}},
    {"Gemm", "", 1, kMaxOpset, cpu::infer_gemm, {"gemm_kernel", cpu::gemm_kernel}, {{"gemm", gl::gemm_supports, gl::gemm_build, 7, kMaxOpset}}, {}},

    // Activations.
    // ONNX Gelu (opset 20): the com.microsoft GELU family's kernels (engine/cpu/contrib.cc, gelu.cc).
    {"Gelu", "", 20, kMaxOpset, cpu::infer_same, {"gelu", cpu::gelu_contrib}, {{"gelu", gl::gelu_supports, gl::gelu_build}}, {}},
    {"Relu", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"relu", gl::activation_supports, gl::activation_build}}, {}},
    {"LeakyRelu", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"leaky_relu", gl::activation_supports, gl::activation_build}}, {}},
    {"Sigmoid", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"sigmoid", gl::activation_supports, gl::activation_build}}, {}},
    {"Tanh", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"tanh", gl::activation_supports, gl::activation_build}}, {}},
    {"Clip", "", 1, kMaxOpset, cpu::infer_same, {"clip", cpu::clip}, {{"clip", gl::activation_supports, gl::activation_build}}, {}},
    {"Elu", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"elu", gl::activation_supports, gl::activation_build}}, {}},
    {"Selu", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"selu", gl::activation_supports, gl::activation_build}}, {}},
    {"Celu", "", 12, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"celu", gl::activation_supports, gl::activation_build}}, {}},
    {"HardSigmoid", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"hard_sigmoid", gl::activation_supports, gl::activation_build}}, {}},
    {"HardSwish", "", 14, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"hard_swish", gl::activation_supports, gl::activation_build}}, {}},
    {"Softplus", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"softplus", gl::activation_supports, gl::activation_build}}, {}},
    {"Softsign", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"softsign", gl::activation_supports, gl::activation_build}}, {}},
    {"ThresholdedRelu", "", 10, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"thresholded_relu", gl::activation_supports, gl::activation_build}}, {}},
    {"PRelu", "", 1, kMaxOpset, cpu::infer_prelu, {"prelu", cpu::prelu}, {{"prelu", gl::prelu_supports, gl::prelu_build, 7, kMaxOpset}}, {}},

    // Elementwise math.
    {"Add", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"add", gl::binary_supports, gl::binary_build, 7, kMaxOpset}}, {}},
    {"Sub", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"sub", gl::binary_supports, gl::binary_build, 7, kMaxOpset}}, {}},
    {"Mul", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"mul", gl::binary_supports, gl::binary_build, 7, kMaxOpset}}, {}},
    {"Div", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"div", gl::binary_supports, gl::binary_build, 7, kMaxOpset}}, {}},
    {"Pow", "", 1, kMaxOpset, cpu::infer_broadcast, {"pow_kernel", cpu::pow_kernel}, {{"pow", gl::binary_supports, gl::binary_build, 7, kMaxOpset}}, {}},
    {"Max", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"max", gl::binary_supports, gl::binary_build, 6, kMaxOpset}}, {}},
    {"Min", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"min", gl::binary_supports, gl::binary_build, 6, kMaxOpset}}, {}},
    {"Sum", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"sum", gl::binary_supports, gl::binary_build, 6, kMaxOpset}}, {}},
    {"Mean", "", 1, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"mean", gl::binary_supports, gl::binary_build, 6, kMaxOpset}}, {}},
    {"Abs", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"abs", gl::unary_supports, gl::unary_build}}, {}},
    {"Neg", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"neg", gl::unary_supports, gl::unary_build}}, {}},
    {"Exp", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"exp", gl::unary_supports, gl::unary_build}}, {}},
    {"Log", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"log", gl::unary_supports, gl::unary_build}}, {}},
    {"Sqrt", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"sqrt", gl::unary_supports, gl::unary_build}}, {}},
    {"Reciprocal", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"reciprocal", gl::unary_supports, gl::unary_build}}, {}},
    {"Floor", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"floor", gl::unary_supports, gl::unary_build}}, {}},
    {"Ceil", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"ceil", gl::unary_supports, gl::unary_build}}, {}},
    {"Round", "", 11, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"round", gl::unary_supports, gl::unary_build}}, {}},
    {"Sign", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"sign", gl::unary_supports, gl::unary_build}}, {}},
    {"Sin", "", 7, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"sin", gl::unary_supports, gl::unary_build}}, {}},
    {"Cos", "", 7, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"cos", gl::unary_supports, gl::unary_build}}, {}},
    {"Tan", "", 7, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"tan", gl::unary_supports, gl::unary_build}}, {}},
    {"Asin", "", 7, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"asin", gl::unary_supports, gl::unary_build}}, {}},
    {"Acos", "", 7, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"acos", gl::unary_supports, gl::unary_build}}, {}},
    {"Atan", "", 7, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"atan", gl::unary_supports, gl::unary_build}}, {}},
    {"Sinh", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"sinh", gl::unary_supports, gl::unary_build}}, {}},
    {"Cosh", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"cosh", gl::unary_supports, gl::unary_build}}, {}},
    {"Asinh", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"asinh", gl::unary_supports, gl::unary_build}}, {}},
    {"Acosh", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"acosh", gl::unary_supports, gl::unary_build}}, {}},
    {"Atanh", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"atanh", gl::unary_supports, gl::unary_build}}, {}},
    {"Erf", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"erf", gl::unary_supports, gl::unary_build}}, {}},

    // Softmax family and normalisation.
    {"Softmax", "", 1, kMaxOpset, cpu::infer_softmax, {"softmax", cpu::softmax}, {{"softmax", gl::softmax_supports, gl::softmax_build}}, {}},
    {"LogSoftmax", "", 1, kMaxOpset, cpu::infer_softmax, {"softmax", cpu::softmax}, {{"logsoftmax", gl::softmax_supports, gl::softmax_build}}, {}},
    {"BatchNormalization", "", 1, kMaxOpset, cpu::infer_batch_norm, {"batch_norm", cpu::batch_norm}, {{"batchnorm", gl::batchnorm_supports, gl::batchnorm_build}}, {}},
    {"InstanceNormalization", "", 1, kMaxOpset, cpu::infer_instance_norm, {"instance_norm", cpu::instance_norm}, {{"instancenorm", gl::instancenorm_supports, gl::instancenorm_build}}, {}},
    {"LayerNormalization", "", 17, kMaxOpset, cpu::infer_layer_norm, {"layer_norm", cpu::layer_norm}, {{"layernorm", gl::layernorm_supports, gl::layernorm_build}}, {}},

    // Data movement.
    {"Reshape", "", 1, kMaxOpset, cpu::infer_reshape, {"reshape", cpu::reshape}, {{"reshape_copy", gl::copy_supports, gl::copy_build}}, {}},
    {"Flatten", "", 1, kMaxOpset, cpu::infer_flatten, {"flatten", cpu::flatten}, {{"flatten_copy", gl::copy_supports, gl::copy_build}}, {}},
    {"Squeeze", "", 1, kMaxOpset, cpu::infer_squeeze, {"squeeze", cpu::squeeze}, {{"squeeze_copy", gl::copy_supports, gl::copy_build}}, {}},
    {"Unsqueeze", "", 1, kMaxOpset, cpu::infer_unsqueeze, {"unsqueeze", cpu::unsqueeze}, {{"unsqueeze_copy", gl::copy_supports, gl::copy_build}}, {}},
    {"Identity", "", 1, kMaxOpset, cpu::infer_same, {"identity", cpu::identity}, {{"identity_copy", gl::copy_supports, gl::copy_build}}, {"identity", values::identity}},
    {"Transpose", "", 1, kMaxOpset, cpu::infer_transpose, {"transpose", cpu::transpose}, {{"transpose", gl::transpose_supports, gl::transpose_build}}, {}},
    {"Concat", "", 1, kMaxOpset, cpu::infer_concat, {"concat", cpu::concat}, {{"concat", gl::concat_supports, gl::concat_build}}, {}},
    {"Cast", "", 1, kMaxOpset, cpu::infer_cast, {"cast", cpu::cast}, {{"cast", gl::cast_supports, gl::cast_build}}, {}},
    {"Pad", "", 1, kMaxOpset, cpu::infer_pad, {"pad", cpu::pad}, {{"pad", gl::pad_supports, gl::pad_build}}, {}},

    // Reductions.
    {"ReduceSum", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_sum", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceMean", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_mean", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceMax", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_max", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceMin", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_min", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceProd", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_prod", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceSumSquare", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_sum_square", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceLogSum", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_log_sum", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceLogSumExp", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_log_sum_exp", gl::reduce_supports, gl::reduce_build}}, {}},

    // More data movement and misc.
    {"Dropout", "", 1, kMaxOpset, cpu::infer_dropout, {"dropout_training", cpu::dropout_training}, {{"dropout_copy", gl::copy_supports, gl::copy_build}}, {}},
    {"Expand", "", 8, kMaxOpset, cpu::infer_expand, {"expand", cpu::expand}, {{"expand", gl::expand_supports, gl::expand_build}}, {}},
    {"Tile", "", 6, kMaxOpset, cpu::infer_tile, {"tile", cpu::tile}, {{"tile", gl::tile_supports, gl::tile_build}}, {}},
    {"Slice", "", 1, kMaxOpset, cpu::infer_slice, {"slice", cpu::slice}, {{"slice", gl::slice_supports, gl::slice_build}}, {}},
    {"Split", "", 2, kMaxOpset, cpu::infer_split, {"split", cpu::split}, {{"split", gl::split_supports, gl::split_build}}, {}},
    {"Hardmax", "", 1, kMaxOpset, cpu::infer_softmax, {"softmax", cpu::softmax}, {{"hardmax", gl::hardmax_supports, gl::hardmax_build}}, {}},
    {"LRN", "", 1, kMaxOpset, cpu::infer_same, {"lrn", cpu::lrn}, {{"lrn", gl::lrn_supports, gl::lrn_build}}, {}},
    {"Mish", "", 18, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"mish", gl::activation_supports, gl::activation_build}}, {}},
    {"Mod", "", 10, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"fmod", gl::binary_supports, gl::binary_build}}, {}},
    {"CastLike", "", 15, kMaxOpset, cpu::infer_cast, {"cast", cpu::cast}, {{"castlike", gl::cast_supports, gl::cast_build}}, {}},
    {"Gather", "", 1, kMaxOpset, cpu::infer_gather, {"gather", cpu::gather}, {{"gather", gl::gather_supports, gl::gather_build}}, {}},
    {"LpPool", "", 1, kMaxOpset, cpu::infer_pool, {"pool", cpu::pool}, {{"lppool", gl::pool_supports, gl::pool_build}}, {}},
    {"GlobalLpPool", "", 1, kMaxOpset, cpu::infer_pool, {"pool", cpu::pool}, {{"global_lppool", gl::global_pool_supports, gl::global_pool_build}}, {}},

    // Reductions added with integer tensors on the GPU.
    {"ReduceL1", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_l1", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ReduceL2", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"reduce_l2", gl::reduce_supports, gl::reduce_build}}, {}},
    {"ArgMax", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"argmax", gl::arg_reduce_supports, gl::arg_reduce_build}}, {}},
    {"ArgMin", "", 1, kMaxOpset, cpu::infer_reduce, {"reduce", cpu::reduce}, {{"argmin", gl::arg_reduce_supports, gl::arg_reduce_build}}, {}},
    {"CumSum", "", 11, kMaxOpset, cpu::infer_same, {"cum_sum", cpu::cum_sum}, {{"cumsum", gl::cumsum_supports, gl::cumsum_build}}, {}},
    {"Trilu", "", 14, kMaxOpset, cpu::infer_same, {"trilu", cpu::trilu}, {{"trilu", gl::trilu_supports, gl::trilu_build}}, {}},

    // Generated values (shapes baked into the source).
    {"Shape", "", 1, kMaxOpset, cpu::infer_shape, {"shape", cpu::shape}, {{"shape", gl::shape_supports, gl::shape_build}}, {}},
    {"Size", "", 1, kMaxOpset, cpu::infer_size, {"size", cpu::size}, {{"size", gl::shape_supports, gl::shape_build}}, {}},
    {"ConstantOfShape", "", 9, kMaxOpset, cpu::infer_constant_of_shape, {"constant_of_shape", cpu::constant_of_shape}, {{"constant_of_shape", gl::constant_of_shape_supports, gl::constant_of_shape_build}}, {}},
    {"EyeLike", "", 9, kMaxOpset, cpu::infer_eye_like, {"eye_like", cpu::eye_like}, {{"eye_like", gl::eye_like_supports, gl::eye_like_build}}, {}},
    {"Range", "", 11, kMaxOpset, cpu::infer_range, {"range", cpu::range}, {{"range", gl::range_supports, gl::range_build}}, {}},

    // Comparisons, logic and selection (bool results as 0/1).
    {"Equal", "", 1, kMaxOpset, cpu::infer_compare, {"compare_kernel", cpu::compare_kernel}, {{"equal", gl::logical_supports, gl::logical_build, 7, kMaxOpset}}, {}},
    {"Greater", "", 1, kMaxOpset, cpu::infer_compare, {"compare_kernel", cpu::compare_kernel}, {{"greater", gl::logical_supports, gl::logical_build, 7, kMaxOpset}}, {}},
    {"Less", "", 1, kMaxOpset, cpu::infer_compare, {"compare_kernel", cpu::compare_kernel}, {{"less", gl::logical_supports, gl::logical_build, 7, kMaxOpset}}, {}},
    {"GreaterOrEqual", "", 12, kMaxOpset, cpu::infer_compare, {"compare_kernel", cpu::compare_kernel}, {{"greater_or_equal", gl::logical_supports, gl::logical_build}}, {}},
    {"LessOrEqual", "", 12, kMaxOpset, cpu::infer_compare, {"compare_kernel", cpu::compare_kernel}, {{"less_or_equal", gl::logical_supports, gl::logical_build}}, {}},
    {"And", "", 1, kMaxOpset, cpu::infer_compare, {"logical_kernel", cpu::logical_kernel}, {{"and", gl::logical_supports, gl::logical_build, 7, kMaxOpset}}, {}},
    {"Or", "", 1, kMaxOpset, cpu::infer_compare, {"logical_kernel", cpu::logical_kernel}, {{"or", gl::logical_supports, gl::logical_build, 7, kMaxOpset}}, {}},
    {"Xor", "", 1, kMaxOpset, cpu::infer_compare, {"logical_kernel", cpu::logical_kernel}, {{"xor", gl::logical_supports, gl::logical_build, 7, kMaxOpset}}, {}},
    {"Not", "", 1, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"not", gl::logical_supports, gl::logical_build}}, {}},
    {"Where", "", 9, kMaxOpset, cpu::infer_where, {"where_kernel", cpu::where_kernel}, {{"where", gl::logical_supports, gl::logical_build}}, {}},
    {"IsNaN", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"isnan", gl::logical_supports, gl::logical_build}}, {}},
    {"IsInf", "", 10, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"isinf", gl::logical_supports, gl::logical_build}}, {}},
    {"BitShift", "", 11, kMaxOpset, cpu::infer_broadcast, {"binary_arith", cpu::binary_arith}, {{"bitshift", gl::logical_supports, gl::logical_build}}, {}},

    // Losses, index-driven movement, rearrangements.
    {"NegativeLogLikelihoodLoss", "", 12, kMaxOpset, cpu::infer_loss, {"loss", cpu::loss}, {{"nll_loss", gl::loss_supports, gl::loss_build}}, {}},
    {"SoftmaxCrossEntropyLoss", "", 12, kMaxOpset, cpu::infer_loss, {"loss", cpu::loss}, {{"sce_loss", gl::loss_supports, gl::loss_build}}, {}},
    {"GatherElements", "", 11, kMaxOpset, cpu::infer_gather_elements, {"gather_elements", cpu::gather_elements}, {{"gather_elements", gl::index_data_supports, gl::index_data_build}}, {}},
    {"GatherND", "", 11, kMaxOpset, cpu::infer_gather_nd, {"gather_nd", cpu::gather_nd}, {{"gather_nd", gl::index_data_supports, gl::index_data_build}}, {}},
    {"ScatterElements", "", 11, kMaxOpset, cpu::infer_same, {"scatter_elements", cpu::scatter_elements}, {{"scatter_elements", gl::index_data_supports, gl::index_data_build}}, {}},
    {"Scatter", "", 9, 10, cpu::infer_same, {"scatter_elements", cpu::scatter_elements}, {{"scatter", gl::index_data_supports, gl::index_data_build}}, {}},
    {"ScatterND", "", 11, kMaxOpset, cpu::infer_same, {"scatter_nd", cpu::scatter_nd}, {{"scatter_nd", gl::index_data_supports, gl::index_data_build}}, {}},
    {"DepthToSpace", "", 1, kMaxOpset, cpu::infer_depth_space, {"depth_space", cpu::depth_space}, {{"depth_to_space", gl::rearrange_supports, gl::rearrange_build}}, {}},
    {"SpaceToDepth", "", 1, kMaxOpset, cpu::infer_depth_space, {"depth_space", cpu::depth_space}, {{"space_to_depth", gl::rearrange_supports, gl::rearrange_build}}, {}},
    {"OneHot", "", 9, kMaxOpset, cpu::infer_one_hot, {"one_hot", cpu::one_hot}, {{"onehot", gl::rearrange_supports, gl::rearrange_build}}, {}},
    {"Shrink", "", 9, kMaxOpset, cpu::infer_same, {"unary", cpu::unary}, {{"shrink", gl::activation_supports, gl::activation_build}}, {}},
    {"Resize", "", 10, kMaxOpset, cpu::infer_resize, {"resize", cpu::resize}, {{"resize", gl::resize_supports, gl::resize_build}}, {}},
    {"Upsample", "", 7, 9, cpu::infer_resize, {"resize", cpu::resize}, {{"upsample", gl::resize_supports, gl::resize_build}}, {}},
    {"ConvTranspose", "", 1, kMaxOpset, cpu::infer_conv_transpose, {"conv_transpose", cpu::conv_transpose}, {{"conv_transpose", gl::conv_transpose_supports, gl::conv_transpose_build}}, {}},
    {"GridSample", "", 16, kMaxOpset, cpu::infer_grid_sample, {"grid_sample", cpu::grid_sample}, {{"grid_sample", gl::grid_sample_supports, gl::grid_sample_build}}, {}},
    {"QuantizeLinear", "", 10, kMaxOpset, cpu::infer_quantize, {"quantize_linear", cpu::quantize_linear}, {{"quantize_linear", gl::quantize_supports, gl::quantize_build}}, {}},
    {"DequantizeLinear", "", 10, kMaxOpset, cpu::infer_quantize, {"dequantize_linear", cpu::dequantize_linear}, {{"dequantize_linear", gl::quantize_supports, gl::quantize_build}}, {}},
    {"DynamicQuantizeLinear", "", 11, kMaxOpset, cpu::infer_dynamic_quantize, {"dynamic_quantize_linear", cpu::dynamic_quantize_linear}, {{"dynamic_quantize_linear", gl::quantize_supports, gl::quantize_build}}, {}},
    {"HannWindow", "", 17, kMaxOpset, cpu::infer_window, {"window", cpu::window}, {{"hann_window", gl::window_supports, gl::window_build}}, {}},
    {"HammingWindow", "", 17, kMaxOpset, cpu::infer_window, {"window", cpu::window}, {{"hamming_window", gl::window_supports, gl::window_build}}, {}},
    {"BlackmanWindow", "", 17, kMaxOpset, cpu::infer_window, {"window", cpu::window}, {{"blackman_window", gl::window_supports, gl::window_build}}, {}},
    {"TopK", "", 1, kMaxOpset, cpu::infer_topk, {"topk", cpu::topk}, {{"topk", gl::topk_supports, gl::topk_build}}, {}},
    {"ReverseSequence", "", 10, kMaxOpset, cpu::infer_same, {"reverse_sequence", cpu::reverse_sequence}, {{"reverse_sequence", gl::reverse_sequence_supports, gl::reverse_sequence_build}}, {}},
    {"Compress", "", 9, kMaxOpset, cpu::infer_compress, {"compress", cpu::compress}, {{"compress", gl::select_supports, gl::select_build}}, {}},
    {"NonZero", "", 9, kMaxOpset, cpu::infer_nonzero, {"nonzero", cpu::nonzero}, {{"nonzero", gl::select_supports, gl::select_build}}, {}},
    {"MaxUnpool", "", 9, kMaxOpset, cpu::infer_max_unpool, {"max_unpool", cpu::max_unpool}, {{"max_unpool", gl::select_supports, gl::select_build}}, {}},
    {"MatMulInteger", "", 10, kMaxOpset, cpu::infer_int32_like, {"integer_op", cpu::integer_op}, {{"matmul_integer", gl::int_op_supports, gl::int_op_build}}, {}},
    {"ConvInteger", "", 10, kMaxOpset, cpu::infer_int32_like, {"integer_op", cpu::integer_op}, {{"conv_integer", gl::int_op_supports, gl::int_op_build}}, {}},
    {"QLinearMatMul", "", 10, kMaxOpset, cpu::infer_int32_like, {"integer_op", cpu::integer_op}, {{"qlinear_matmul", gl::int_op_supports, gl::int_op_build}}, {}},
    {"QLinearConv", "", 10, kMaxOpset, cpu::infer_int32_like, {"integer_op", cpu::integer_op}, {{"qlinear_conv", gl::int_op_supports, gl::int_op_build}}, {}},
    {"MeanVarianceNormalization", "", 9, kMaxOpset, cpu::infer_same, {"mean_variance_norm", cpu::mean_variance_norm}, {{"mvn", gl::mvn_det_supports, gl::mvn_det_build}}, {}},
    {"Det", "", 11, kMaxOpset, cpu::infer_det, {"det", cpu::det}, {{"det", gl::mvn_det_supports, gl::mvn_det_build}}, {}},
    {"Einsum", "", 12, kMaxOpset, cpu::infer_einsum, {"einsum", cpu::einsum}, {{"einsum", gl::einsum_supports, gl::einsum_build}}, {}},
    {"RNN", "", 1, kMaxOpset, cpu::infer_rnn, {"rnn", cpu::rnn}, {{"rnn", gl::rnn_supports, gl::rnn_build, 7, kMaxOpset}}, {}},
    {"GRU", "", 1, kMaxOpset, cpu::infer_rnn, {"rnn", cpu::rnn}, {{"gru", gl::rnn_supports, gl::rnn_build, 7, kMaxOpset}}, {}},
    {"LSTM", "", 1, kMaxOpset, cpu::infer_rnn, {"rnn", cpu::rnn}, {{"lstm", gl::rnn_supports, gl::rnn_build, 7, kMaxOpset}}, {}},
    {"NonMaxSuppression", "", 10, kMaxOpset, cpu::infer_nms, {"nms", cpu::nms}, {{"nms", gl::nms_supports, gl::nms_build}}, {}},
    {"Unique", "", 11, kMaxOpset, cpu::infer_unique, {"unique", cpu::unique}, {{"unique", gl::unique_supports, gl::unique_build}}, {}},
    {"Adagrad", "ai.onnx.preview.training", 1, kMaxOpset, cpu::infer_optimizer, {"optimizer", cpu::optimizer}, {{"adagrad", gl::optimizer_supports, gl::optimizer_build}}, {}},
    {"Momentum", "ai.onnx.preview.training", 1, kMaxOpset, cpu::infer_optimizer, {"optimizer", cpu::optimizer}, {{"momentum", gl::optimizer_supports, gl::optimizer_build}}, {}},
    {"Adam", "ai.onnx.preview.training", 1, kMaxOpset, cpu::infer_optimizer, {"optimizer", cpu::optimizer}, {{"adam", gl::optimizer_supports, gl::optimizer_build}}, {}},

    // CPU only.
    {"Constant", "", 1, kMaxOpset, cpu::infer_constant, {"constant", cpu::constant}, {}, {}},
    {"DFT", "", 17, kMaxOpset, cpu::infer_dft, {"dft", cpu::dft}, {}, {}},
    {"STFT", "", 17, kMaxOpset, cpu::infer_stft, {"stft", cpu::stft}, {}, {}},
    {"MelWeightMatrix", "", 17, kMaxOpset, cpu::infer_mel_weight_matrix, {"mel_weight_matrix", cpu::mel_weight_matrix}, {}, {}},
    {"RoiAlign", "", 10, kMaxOpset, cpu::infer_roi_align, {"roi_align", cpu::roi_align}, {}, {}},
    {"StringNormalizer", "", 10, kMaxOpset, cpu::infer_string_normalizer, {"string_normalizer", cpu::string_normalizer}, {}, {}},
    {"TfIdfVectorizer", "", 9, kMaxOpset, cpu::infer_tfidf_vectorizer, {"tfidf_vectorizer", cpu::tfidf_vectorizer}, {}, {}},
    {"RandomUniform", "", 1, kMaxOpset, cpu::infer_random, {"random", cpu::random_kernel}, {}, {}},
    {"RandomNormal", "", 1, kMaxOpset, cpu::infer_random, {"random", cpu::random_kernel}, {}, {}},
    {"RandomUniformLike", "", 1, kMaxOpset, cpu::infer_random, {"random", cpu::random_kernel}, {}, {}},
    {"RandomNormalLike", "", 1, kMaxOpset, cpu::infer_random, {"random", cpu::random_kernel}, {}, {}},
    {"Bernoulli", "", 15, kMaxOpset, cpu::infer_random, {"random", cpu::random_kernel}, {}, {}},
    {"Multinomial", "", 7, kMaxOpset, cpu::infer_multinomial, {"multinomial", cpu::multinomial}, {}, {}},

    // Sequences, optionals and control flow (value kernels).
    {"SequenceConstruct", "", 11, kMaxOpset, nullptr, {}, {}, {"sequence_construct", values::sequence_construct}},
    {"SequenceEmpty", "", 11, kMaxOpset, nullptr, {}, {}, {"sequence_empty", values::sequence_empty}},
    {"SequenceAt", "", 11, kMaxOpset, nullptr, {}, {}, {"sequence_at", values::sequence_at}},
    {"SequenceInsert", "", 11, kMaxOpset, nullptr, {}, {}, {"sequence_insert", values::sequence_insert}},
    {"SequenceErase", "", 11, kMaxOpset, nullptr, {}, {}, {"sequence_erase", values::sequence_erase}},
    {"SequenceLength", "", 11, kMaxOpset, nullptr, {}, {}, {"sequence_length", values::sequence_length}},
    {"SplitToSequence", "", 11, kMaxOpset, nullptr, {}, {}, {"split_to_sequence", values::split_to_sequence}},
    {"ConcatFromSequence", "", 11, kMaxOpset, nullptr, {}, {}, {"concat_from_sequence", values::concat_from_sequence}},
    {"Optional", "", 15, kMaxOpset, nullptr, {}, {}, {"optional", values::optional}},
    {"OptionalHasElement", "", 15, kMaxOpset, nullptr, {}, {}, {"optional_has_element", values::optional_has_element}},
    {"OptionalGetElement", "", 15, kMaxOpset, nullptr, {}, {}, {"optional_get_element", values::optional_get_element}},
    {"If", "", 1, kMaxOpset, nullptr, {}, {}, {"if", values::if_, true}},
    {"Loop", "", 1, kMaxOpset, nullptr, {}, {}, {"loop", values::loop}},
    {"Scan", "", 8, kMaxOpset, nullptr, {}, {}, {"scan", values::scan}},
    {"SequenceMap", "", 17, kMaxOpset, nullptr, {}, {}, {"sequence_map", values::sequence_map}},

    // com.microsoft ops of optimized transformer exports (engine/cpu/contrib.cc).
    {"Gelu", "com.microsoft", 1, kMaxOpset, cpu::infer_same, {"gelu", cpu::gelu_contrib}, {{"gelu", gl::gelu_supports, gl::gelu_build}}, {}},
    {"FastGelu", "com.microsoft", 1, kMaxOpset, cpu::infer_same, {"fast_gelu", cpu::gelu_contrib}, {{"fast_gelu", gl::gelu_supports, gl::gelu_build}}, {}},
    {"BiasGelu", "com.microsoft", 1, kMaxOpset, cpu::infer_same, {"bias_gelu", cpu::gelu_contrib}, {{"bias_gelu", gl::gelu_supports, gl::gelu_build}}, {}},
    {"QuickGelu", "com.microsoft", 1, kMaxOpset, cpu::infer_same, {"quick_gelu", cpu::gelu_contrib}, {{"quick_gelu", gl::gelu_supports, gl::gelu_build}}, {}},
    {"BiasAdd", "com.microsoft", 1, kMaxOpset, cpu::infer_same, {"bias_add", cpu::bias_add}, {{"bias_add", gl::gelu_supports, gl::gelu_build}}, {}},
    {"SkipLayerNormalization", "com.microsoft", 1, kMaxOpset, cpu::infer_skip_layer_norm, {"skip_layer_norm", cpu::skip_layer_norm}, {{"skip_layernorm", gl::skip_layernorm_supports, gl::skip_layernorm_build}}, {}},
    {"SkipSimplifiedLayerNormalization", "com.microsoft", 1, kMaxOpset, cpu::infer_skip_layer_norm, {"skip_layer_norm", cpu::skip_layer_norm}, {{"skip_layernorm", gl::skip_layernorm_supports, gl::skip_layernorm_build}}, {}},
    {"SimplifiedLayerNormalization", "", 1, kMaxOpset, cpu::infer_skip_layer_norm, {"skip_layer_norm", cpu::skip_layer_norm}, {{"skip_layernorm", gl::skip_layernorm_supports, gl::skip_layernorm_build}}, {}},
    {"SimplifiedLayerNormalization", "com.microsoft", 1, kMaxOpset, cpu::infer_skip_layer_norm, {"skip_layer_norm", cpu::skip_layer_norm}, {{"skip_layernorm", gl::skip_layernorm_supports, gl::skip_layernorm_build}}, {}},
    {"FusedMatMul", "com.microsoft", 1, kMaxOpset, cpu::infer_fused_matmul, {"fused_matmul", cpu::fused_matmul, cpu::matmul_epilogue_applies}, {{"fused_matmul", gl::matmul_supports, gl::matmul_build}}, {}},
    // Attention family and weight-only 4-bit matmuls (engine/cpu/contrib_attention.h; GPU in
    // engine/gl/kernels/contrib_attention.h, matmul_nbits.h).
    {"RotaryEmbedding", "com.microsoft", 1, kMaxOpset, cpu::infer_same, {"rotary_embedding", cpu::rotary_embedding}, {{"rotary_embedding", gl::rotary_embedding_supports, gl::rotary_embedding_build}}, {}},
    {"MultiHeadAttention", "com.microsoft", 1, kMaxOpset, cpu::infer_multi_head_attention, {"multi_head_attention", cpu::multi_head_attention}, {{"multi_head_attention", gl::multi_head_attention_supports, gl::multi_head_attention_build}}, {}},
    {"GroupQueryAttention", "com.microsoft", 1, kMaxOpset, cpu::infer_group_query_attention, {"group_query_attention", cpu::group_query_attention}, {{"group_query_attention", gl::group_query_attention_supports, gl::group_query_attention_build}}, {}},
    {"Attention", "com.microsoft", 1, kMaxOpset, cpu::infer_attention_contrib, {"attention_contrib", cpu::attention_contrib}, {{"attention_contrib", gl::attention_contrib_supports, gl::attention_contrib_build}}, {}},
    {"MatMulNBits", "com.microsoft", 1, kMaxOpset, cpu::infer_matmul_nbits, {"matmul_nbits", cpu::matmul_nbits}, {{"matmul_nbits", gl::matmul_nbits_supports, gl::matmul_nbits_build}}, {}},
  };
  return table;
}

namespace {
bool matches(const OpRow& row, const ir::Node& node) {
  const std::string& d = node.domain == "ai.onnx" ? std::string() : node.domain;
  return node.op_type == row.op && d == row.domain;
}
}  // namespace

const OpRow* find_op(const ir::Node& node) {
  for (auto& row : op_table())
    if (matches(row, node) && node.opset >= row.since && node.opset <= row.until) return &row;
  return nullptr;
}

const CpuCandidate* find_cpu_kernel(const ir::Node& node) {
  const OpRow* row = find_op(node);
  return row && row->cpu.name ? &row->cpu : nullptr;
}

std::vector<const GpuCandidate*> find_gpu_kernels(const ir::Node& node) {
  std::vector<const GpuCandidate*> out;
  if (const OpRow* row = find_op(node))
    for (auto& c : row->gpu)
      if (node.opset >= c.since && node.opset <= c.until) out.push_back(&c);
  return out;
}

const ValueCandidate* find_value_kernel(const ir::Node& node) {
  const OpRow* row = find_op(node);
  return row && row->value.name ? &row->value : nullptr;
}

InferFn find_infer(const ir::Node& node) {
  // Shape functions apply at every opset the row names (and outside it, so
  // that shape inference can still describe a node no kernel runs).
  for (auto& row : op_table())
    if (matches(row, node)) return row.shape;
  return nullptr;
}

bool op_known(const std::string& op, const std::string& domain) {
  const std::string d = domain == "ai.onnx" ? "" : domain;
  for (auto& row : op_table())
    if (op == row.op && d == row.domain) return true;
  return false;
}

}  // namespace glint

#version 300 es
// glint: every fragment program starts with this (composed by
// engine/gl/codegen/shader_composer.cc). highp everywhere: tensors are fp32
// and flat indices exceed mediump's range; samplers default to lowp in
// fragment shaders, which would make texture() results lowp.
precision highp float;
precision highp int;
precision highp sampler2D;

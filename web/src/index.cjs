// glint-onnx is an ES module (its engine is loaded asynchronously); this file
// is what `require('glint-onnx')` reaches, so that it fails with a message
// that says what to do instead of ERR_PACKAGE_PATH_NOT_EXPORTED.
throw new Error("glint-onnx is an ES module and cannot be loaded with require(): use " +
  "`import * as glint from 'glint-onnx'`, or from CommonJS `const glint = await import('glint-onnx')`");

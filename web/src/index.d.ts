// Types for the glint-onnx package: the common part of onnxruntime-web's API,
// plus a few glint-specific read-only properties on InferenceSession.

/**
 * glint-onnx: ONNX models in the browser on the GPU (WebGL2), with a per-node
 * WebAssembly CPU fallback, and under Node on WebAssembly. The API is the
 * common part of onnxruntime-web's: switching is changing the import.
 *
 * ```js
 * import * as ort from 'glint-onnx';
 * const session = await ort.InferenceSession.create('model.onnx');
 * const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, dims) });
 * ```
 * @packageDocumentation
 */

export declare namespace Tensor {
  type Type = 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' |
              'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string';
  /**
   * The data array of each type. float16 is typed as `Uint16Array` (IEEE half bits), as in
   * onnxruntime-web; at run time an output is a `Float16Array` where the runtime has one
   * (Chromium 135+), and inputs may be either. {@link float16ToFloat32} reads both.
   */
  interface DataTypeMap {
    float32: Float32Array; float16: Uint16Array; float64: Float64Array;
    int8: Int8Array; uint8: Uint8Array; int16: Int16Array; uint16: Uint16Array;
    int32: Int32Array; uint32: Uint32Array; int64: BigInt64Array; uint64: BigUint64Array;
    bool: Uint8Array;
    /** For the CPU ops that take strings (e.g. StringNormalizer); such nodes run on the wasm CPU kernels. */
    string: string[];
  }
  type DataType = DataTypeMap[Type];
}

export interface ImageOptions {
  /** Output width (default: the image's). */
  resizedWidth?: number;
  /** Output height (default: the image's). */
  resizedHeight?: number;
  /** Resize so the shorter side is this long (aspect kept), then centre-crop to resizedWidth x resizedHeight. */
  shortSide?: number;
  /** Channel order; GRAY is BT.601 luma. Default 'RGB'. */
  tensorFormat?: 'RGB' | 'BGR' | 'RGBA' | 'BGRA' | 'GRAY';
  /** Default 'NCHW'. */
  tensorLayout?: 'NCHW' | 'NHWC';
  /** Default 'float32'; 'float16' gives IEEE half bits in a Uint16Array; 'uint8' the raw pixels. */
  dataType?: 'float32' | 'float16' | 'uint8';
  /** v = (pixel - mean) * scale, pixel in 0..255; per channel in tensorFormat's order. */
  mean?: number | number[];
  scale?: number | number[];
  /** Alternative to scale: v = (pixel - mean) / std. */
  std?: number | number[];
  /**
   * onnxruntime-web's form: v = (pixel + bias) / mean, mean[i] and bias[i] for the image's channel i
   * (R, G, B, A; as onnxruntime-web, whatever tensorFormat's order). With neither form, v = pixel / 255.
   */
  norm?: { mean?: number | number[]; bias?: number | number[] };
  /** v = 255 - pixel before normalising. */
  invert?: boolean;
  /** Canvas imageSmoothingQuality used for the resize. Default 'high'. */
  smoothing?: 'high' | 'medium' | 'low';
}

export type ImageSource = HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap |
                          HTMLVideoElement | ImageData | string | URL;

/** A typed array of 2-byte elements holding numbers: a `Float16Array` where the runtime (and TypeScript's lib) has one. */
export type Float16ArrayLike = ArrayBufferView & ArrayLike<number> & { readonly BYTES_PER_ELEMENT: number };

/** Options of {@link Tensor.toImageData} and {@link Tensor.toDataURL} (onnxruntime-web's). */
export interface TensorToImageDataOptions {
  /** The tensor's channel order; default RGB (3 channels), RGBA (4) or GRAY (1). */
  format?: 'RGB' | 'BGR' | 'RGBA' | 'BGRA' | 'GRAY';
  /** Default 'NCHW'. */
  tensorLayout?: 'NCHW' | 'NHWC';
  /** pixel = (value - bias[i]) * mean[i] for the image's channel i (R, G, B, A), as onnxruntime-web; default mean 255 (1 for uint8) and bias 0. */
  norm?: { mean?: number | number[]; bias?: number | number[] };
}

export declare class Tensor<T extends Tensor.Type = Tensor.Type> {
  constructor(type: T, data: Tensor.DataTypeMap[T] | readonly number[] | readonly boolean[] | readonly bigint[] | readonly string[],
              dims?: readonly number[]);
  constructor(type: 'float16', data: Float16ArrayLike, dims?: readonly number[]);
  constructor(data: Tensor.DataType, dims?: readonly number[]);
  readonly type: T;
  readonly data: Tensor.DataTypeMap[T];
  readonly dims: readonly number[];
  readonly size: number;
  /** 'cpu-pinned': an output kept in the engine's memory; 'texture': one kept in GPU memory (webgl; read it with getData()). See SessionOptions.preferredOutputLocation. */
  readonly location: 'cpu' | 'cpu-pinned' | 'texture';
  readonly cpuData: Tensor.DataTypeMap[T];
  /** The values (a 'texture' tensor reads them back from the GPU; `releaseData` then disposes of it). */
  getData(releaseData?: boolean): Promise<Tensor.DataTypeMap[T]>;
  reshape(dims: readonly number[]): Tensor<T>;
  /** The tensor ([1, C, H, W], or [1, H, W, C] with tensorLayout 'NHWC'; C = 1, 3 or 4) as ImageData. */
  toImageData(options?: TensorToImageDataOptions): ImageData;
  /** The tensor as a PNG data: URL (needs a document). */
  toDataURL(options?: TensorToImageDataOptions): string;
  /** Drops the data so that it can be collected (a 'cpu-pinned' or 'texture' tensor frees the engine's or the GPU's memory now); the tensor is unusable afterwards. */
  dispose(): void;
  static fromImage(image: ImageSource, options?: ImageOptions): Promise<Tensor<'float32' | 'float16' | 'uint8'>>;
}

export declare namespace InferenceSession {
  /** onnxruntime-web's provider names; glint runs 'webgl', 'wasm' ('cpu') and 'auto' and skips the others with a warning. */
  type ExecutionProviderName = 'auto' | 'webgl' | 'wasm' | 'cpu' | 'webgpu' | 'webnn' | 'xnnpack';
  interface ExecutionProviderOption { readonly name: string; [key: string]: unknown }
  type ExecutionProviderConfig = ExecutionProviderName | ExecutionProviderOption | (string & {});
  /** @deprecated use ExecutionProviderConfig */
  type ExecutionProvider = ExecutionProviderConfig;
  type OnnxValueDataLocation = 'none' | 'cpu' | 'cpu-pinned' | 'texture' | 'gpu-buffer' | 'ml-tensor';
  /** session.gpuMemory: the page's GL executor (shared by its webgl sessions). */
  interface GpuMemory {
    /** Textures holding tensors now (weights, and outputs of the run in progress). */
    readonly liveTextures: number;
    /** Textures kept for reuse by later runs and sessions. */
    readonly pooledTextures: number;
    /** Bytes of the live and pooled textures. */
    readonly textureBytes: number;
    /** Compiled shader programs. */
    readonly programs: number;
    /** Textures made since the executor was created; steady runs make none (each costs a synchronous getError). */
    readonly texturesCreated: number;
  }
  type ExternalDataFile = string | URL | { readonly path: string; readonly data: Uint8Array | ArrayBufferLike | string | URL };
  interface SessionOptions {
    /**
     * Tried in order; default ['auto']. 'webgl' = GPU with per-node wasm fallback, 'wasm' = CPU only,
     * 'auto' = wasm where WebGL is a software rasterizer (SwiftShader, llvmpipe, ...) or missing, else
     * ['webgl', 'wasm']. Explicit providers are always honoured; providers glint does not have
     * ('webgpu', 'webnn', ...) are skipped with one warning.
     */
    executionProviders?: readonly ExecutionProviderConfig[];
    /** Called as the model downloads (URL sources only). total is 0 when the server sends no length. */
    onProgress?: (progress: { loaded: number; total: number; done?: boolean }) => void;
    /** Honoured: 0 verbose, 1 info, 2 warning (default, or env.logLevel), 3 error, 4 fatal; 3 and 4 silence glint's warnings. */
    logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
    logVerbosityLevel?: number;
    logId?: string;
    /** Honoured: caps this session's wasm threads (env.wasm.numThreads decides which build loads). */
    intraOpNumThreads?: number;
    /** Warned about: nodes run in order. */
    interOpNumThreads?: number;
    /** 'all' and 'extended' are what glint does; others are warned about (glint always optimizes). */
    graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
    /** Honoured: each symbolic dimension named here (dim_param or denotation) becomes this size in the model's inputs, outputs and value_info; a name the model lacks is warned about. */
    freeDimensionOverrides?: { readonly [dimensionName: string]: number };
    /**
     * 'cpu' (the default): each output is copied out of the engine. 'cpu-pinned' (for every output, or per output
     * name): the output stays in the engine's memory; its `data` is a view of it, valid until `dispose()`, and fed
     * back to a run it crosses without a copy (a decoder's KV cache). 'texture' (webgl sessions): the output stays where
     * the run left it, in GPU memory (glint's own texel layout) or, when a CPU kernel made it, in the engine's memory;
     * `data` throws, `getData()` reads it back, and fed to a webgl session's run it is read where it lies. Other locations are warned about and come back as 'cpu'.
     */
    preferredOutputLocation?: OnnxValueDataLocation | { readonly [outputName: string]: OnnxValueDataLocation };
    /** Honoured: every node of every run is timed from creation on, as after `startProfiling()`. */
    enableProfiling?: boolean;
    /** No effect (warned about): `endProfiling()` returns the trace. */
    profileFilePrefix?: string;
    /** No effect (warned about). */
    enableCpuMemArena?: boolean;
    enableMemPattern?: boolean;
    executionMode?: 'sequential' | 'parallel';
    optimizedModelFilePath?: string;
    enableGraphCapture?: boolean;
    extra?: Record<string, unknown>;
    /**
     * The files a model keeps tensors in (ONNX external data, as `onnx.save_model(..., save_as_external_data=True)`
     * and `torch.onnx.export` of a large model write them): `path` is the name the model's tensors give as their
     * location (a leading "./" aside), `data` the file's bytes or a URL to fetch them from (under Node, a file path);
     * a URL or path alone is fetched and matched by its last segment. A location the model names but that is not
     * given is an error naming it. Under Node, a model loaded from its file reads them from beside it by default.
     */
    externalData?: readonly ExternalDataFile[];
    [key: string]: unknown;
  }
  type FeedsType = { readonly [name: string]: Tensor };
  type FetchesType = readonly string[] | { readonly [name: string]: Tensor | null };
  type ReturnType = { readonly [name: string]: Tensor };
  interface RunOptions {
    /** Honoured for this run's warnings (see SessionOptions.logSeverityLevel). */
    logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
    logVerbosityLevel?: number;
    /** Honoured: a run still queued behind another is rejected instead of started. */
    terminate?: boolean;
    /** Honoured: names the run in its error messages. */
    tag?: string;
    /** Not supported (warned about). */
    extra?: Record<string, unknown>;
    [key: string]: unknown;
  }
  interface ValueMetadata {
    name: string;
    isTensor: true;
    type: Tensor.Type | string;
    /** Fixed dims as numbers, symbolic ones as their names, unknown as null. */
    shape: ReadonlyArray<number | string | null>;
  }
  interface Timings {
    fetchMs: number; loadMs: number; optimizeMs: number; compileMs: number; createMs: number;
  }
  /** A Chrome trace event (chrome://tracing, Perfetto), as onnxruntime's profiler writes them. */
  interface TraceEvent {
    cat: 'Session' | 'Node';
    name: string;
    ph: 'X';
    pid: number;
    tid: number;
    /** Start and duration in microseconds. */
    ts: number;
    dur: number;
    args: { op_name?: string; provider?: string };
  }
  interface NodePlacement { node: string; op: string; gpu: boolean; kernel: string; reason: string }
}

export declare class InferenceSession {
  static create(urlOrBytes: string | URL | ArrayBuffer | Uint8Array,
                options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  static create(buffer: ArrayBuffer, byteOffset: number, byteLength?: number,
                options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
  /** The provider the session runs on: the first of executionProviders that could start ('auto' resolved). */
  readonly executionProvider: 'webgl' | 'wasm' | 'cpu';
  /** Why: e.g. "WebGL renderer is 'ANGLE (..., SwiftShader ...)', a software rasterizer: wasm is faster". */
  readonly executionProviderReason: string;
  /** Threads of the wasm CPU kernels (env.wasm.numThreads at creation; 1 without cross-origin isolation). */
  readonly numThreads: number;
  readonly timings: InferenceSession.Timings;
  /** Engine time of the last run in milliseconds (without the copies in and out). */
  readonly lastRunMs?: number;
  readonly placements: readonly InferenceSession.NodePlacement[];
  readonly renderer: string;
  /**
   * The GPU memory of the page's GL executor, which every webgl session of the page shares:
   * textures in use (`liveTextures`), kept in the pool for reuse (`pooledTextures`), the bytes of
   * both (`textureBytes`) and compiled programs (`programs`). Null on wasm, after release(), and
   * while the WebGL context is lost. Steady under repeated runs (the load test checks it).
   */
  readonly gpuMemory: InferenceSession.GpuMemory | null;
  run(feeds: InferenceSession.FeedsType, options?: InferenceSession.RunOptions): Promise<InferenceSession.ReturnType>;
  /**
   * `fetches`: the output names to compute, or an object keyed by output names whose values are
   * null (a new tensor) or a 'cpu' Tensor of the output's type and dims, which the run writes
   * into and returns (a pre-allocated output: no new buffer per run).
   */
  run(feeds: InferenceSession.FeedsType, fetches: InferenceSession.FetchesType,
      options?: InferenceSession.RunOptions): Promise<InferenceSession.ReturnType>;
  /** Starts recording every node of every run (fenced wall time; profiled runs are slower). */
  startProfiling(): void;
  /** Stops recording and returns the events as a Chrome trace (also kept in `profile`). */
  endProfiling(): InferenceSession.TraceEvent[];
  /** The trace the last endProfiling() returned. */
  readonly profile?: InferenceSession.TraceEvent[];
  release(): Promise<void>;
}

export declare const env: {
  wasm: {
    /**
     * URL prefix (ending in '/') or a map {'glint.wasm': url, 'glint-threaded.wasm': url,
     * 'glint-threaded.mjs': url, 'glint-threaded.worker.js': url}; default: beside index.mjs.
     */
    wasmPaths?: string | { [file: string]: string };
    /** The bytes of glint.wasm, when the app has them (nothing is fetched then); under Node read from the package by default. */
    wasmBinary?: ArrayBuffer | Uint8Array;
    /**
     * Milliseconds loading the engine may take before create() rejects (0, the default: no limit).
     * The threaded build always has one (this, or 10 s): when it cannot start, glint.wasm runs on one thread.
     */
    initTimeout?: number;
    /**
     * Threads of the wasm CPU kernels, read at session creation. Default min(4, hardwareConcurrency)
     * on a cross-origin-isolated page (COOP same-origin + COEP require-corp), else 1. Above 1 glint
     * loads its threaded build (glint-threaded.wasm, SharedArrayBuffer); 0 or undefined = default.
     */
    numThreads?: number;
    simd?: boolean;
  };
  webgl: {
    /**
     * Limits to behave as a smaller GPU (read when the page's first WebGL session starts); each only lowers
     * what the device has, e.g. { max_texture_size: 4096, max_draw_buffers: 4, float_render: 0 }.
     */
    limits?: {
      max_texture_size?: number;
      max_draw_buffers?: number;
      max_texture_units?: number;
      float_render?: boolean | 0 | 1;
      half_float_render?: boolean | 0 | 1;
    };
    /**
     * Milliseconds to wait for a lost WebGL context to be restored (read when it is lost; default 5000).
     * Runs reject while it is lost; past this, sessions whose executionProviders list 'wasm' continue
     * on wasm, the others keep rejecting until the browser restores the context (then they rebuild).
     */
    contextRestoreTimeout?: number;
    [key: string]: unknown;
  };
  logLevel: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  readonly versions: { glint: string };
};

/** float16 data (IEEE half bits in a Uint16Array, or a Float16Array) as float32. */
export declare function float16ToFloat32(data: Uint16Array | Float16ArrayLike): Float32Array;
/** Numbers as IEEE half bits (round to nearest even), e.g. for `new Tensor('float16', bits, dims)`. */
export declare function float32ToFloat16(data: ArrayLike<number>): Uint16Array;

declare const _default: {
  InferenceSession: typeof InferenceSession; Tensor: typeof Tensor; env: typeof env;
  float16ToFloat32: typeof float16ToFloat32; float32ToFloat16: typeof float32ToFloat16;
};
export default _default;
